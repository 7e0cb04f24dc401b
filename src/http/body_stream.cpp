#include "http/body_stream.h"

#include <errno.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace http {

namespace {

// pread of exactly `len` bytes (fewer only at a short file: an error).
bool read_range(int fd, uint64_t offset, size_t len, std::string* buf, std::string* error) {
  buf->resize(len);
  size_t got = 0;
  while (got < len) {
    ssize_t n = ::pread(fd, &(*buf)[got], len - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *error = n == 0 ? "the spool file is shorter than its pieces"
                      : std::string("spool read: ") + std::strerror(errno);
      return false;
    }
    got += static_cast<size_t>(n);
  }
  return true;
}

const std::vector<spool::Piece>& parts_of(const std::shared_ptr<const Body>& body) {
  static const std::vector<spool::Piece> kNone;
  return body ? body->parts() : kNone;
}

}  // namespace

BodyStream::BodyStream(std::shared_ptr<const Body> body, const StreamOptions& options)
    : body_(std::move(body)), opt_(options) {
  transform_ = opt_.openmetrics || opt_.gzip || opt_.chunked;
  if (opt_.openmetrics) om_ = std::make_unique<metrics::OpenMetricsWriter>();
  if (opt_.gzip) gzip_ = std::make_unique<codec::GzipStream>(opt_.gzip_level);
}

BodyStream::~BodyStream() = default;

void BodyStream::next_part() {
  part_++;
  offset_ = 0;
  encoded_pos_ = 0;
  encoded_loaded_ = false;
  std::string().swap(encoded_);
}

bool BodyStream::render_block(const spool::Piece& p, std::string* out, std::string* error) {
  std::string_view bytes = p.text;
  if (p.in_file()) {
    if (!encoded_loaded_) {
      if (!read_range(body_->file()->fd(), p.file_offset, static_cast<size_t>(p.file_length), &encoded_,
                      error))
        return false;
      encoded_loaded_ = true;
    }
    bytes = encoded_;
  }
  out->clear();
  return p.lines->render(bytes, &encoded_pos_, out, kBlock, labels_, error);
}

bool BodyStream::read_input(std::string_view* view, std::string* error) {
  const std::vector<spool::Piece>& parts = parts_of(body_);
  while (part_ < parts.size()) {
    const spool::Piece& p = parts[part_];
    if (p.encoded()) {
      if (encoded_pos_ >= p.stored()) {
        next_part();
        continue;
      }
      if (!render_block(p, &file_buf_, error)) return false;
      *view = file_buf_;
      bytes_in_ += file_buf_.size();
      return true;
    }
    if (offset_ >= p.size()) {
      next_part();
      continue;
    }
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kBlock, p.size() - offset_));
    if (p.in_file()) {
      if (!read_range(body_->file()->fd(), p.file_offset + offset_, n, &file_buf_, error)) return false;
      *view = file_buf_;
    } else {
      *view = std::string_view(p.text).substr(static_cast<size_t>(offset_), n);
    }
    offset_ += n;
    bytes_in_ += n;
    return true;
  }
  *view = std::string_view();
  return true;
}

void BodyStream::frame(const std::string& data) {
  if (data.empty()) return;
  if (opt_.chunked) {
    char head[24];
    int n = std::snprintf(head, sizeof head, "%zx\r\n", data.size());
    out_.append(head, static_cast<size_t>(n));
    out_.append(data);
    out_.append("\r\n");
  } else {
    out_.append(data);
  }
}

// Makes the next output (at least one input block's worth, or the end).
bool BodyStream::produce(std::string* error) {
  out_.clear();
  out_pos_ = 0;
  std::string om, z;
  while (out_.empty() && !finished_) {
    std::string_view in;
    if (!read_input(&in, error)) return false;
    const bool last = in.empty();
    std::string_view stage = in;
    if (om_) {
      om.clear();
      om_->feed(in, &om);
      if (last) om_->finish(&om);
      stage = om;
    }
    if (opt_.gzip) {
      z.clear();
      if (!gzip_->write(stage, last, &z, error)) return false;
      stage = z;
    }
    frame(std::string(stage));
    if (last) {
      if (opt_.chunked) out_.append("0\r\n\r\n");
      finished_ = true;
    }
  }
  return true;
}

bool BodyStream::next(Out* out, std::string* error) {
  *out = Out{};
  from_pending_ = false;
  if (!transform_) {
    const std::vector<spool::Piece>& parts = parts_of(body_);
    // An encoded piece's text, block by block, each kept until it is sent.
    auto pending = [&] {
      out->data = pending_.data() + pending_pos_;
      out->len = pending_.size() - pending_pos_;
      out->more = part_ + 1 < parts.size() || encoded_pos_ < parts[part_].stored();
      from_pending_ = true;
      return true;
    };
    if (pending_pos_ < pending_.size()) return pending();
    while (part_ < parts.size()) {
      const spool::Piece& p = parts[part_];
      if (p.encoded()) {
        if (encoded_pos_ >= p.stored()) {
          next_part();
          continue;
        }
        if (!render_block(p, &pending_, error)) return false;
        pending_pos_ = 0;
        if (pending_.empty()) continue;
        return pending();
      }
      if (offset_ >= p.size()) {
        next_part();
        continue;
      }
      out->more = part_ + 1 < parts.size();
      if (!p.in_file()) {
        out->data = p.text.data() + offset_;
        out->len = static_cast<size_t>(p.text.size() - offset_);
        return true;
      }
      if (opt_.sendfile) {
        out->file_fd = body_->file()->fd();
        out->file_offset = p.file_offset + offset_;
        out->file_len = p.file_length - offset_;
        return true;
      }
      // No sendfile (TLS): the range through a buffer, re-read from the
      // same offset until it is sent.
      const size_t n = static_cast<size_t>(std::min<uint64_t>(kBlock, p.file_length - offset_));
      if (!read_range(body_->file()->fd(), p.file_offset + offset_, n, &file_buf_, error)) return false;
      out->data = file_buf_.data();
      out->len = n;
      out->more = true;
      return true;
    }
    return false;
  }
  if (out_pos_ >= out_.size()) {
    if (finished_) return false;
    if (!produce(error)) return false;
    if (out_.empty()) return false;
  }
  out->data = out_.data() + out_pos_;
  out->len = out_.size() - out_pos_;
  out->more = !finished_;
  return true;
}

void BodyStream::consumed(uint64_t n) {
  bytes_out_ += n;
  if (!transform_) {
    if (from_pending_) {
      pending_pos_ += static_cast<size_t>(n);
    } else {
      offset_ += n;
    }
    return;
  }
  out_pos_ += static_cast<size_t>(n);
}

}  // namespace http
