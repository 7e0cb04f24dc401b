// A temporary file that holds a large exposition outside the worker's memory.
//
// 20,000 tables make a 60 MB exposition. Kept in the worker it doubles the
// worker's peak memory; written to an unlinked file it lives in the kernel's
// page cache, is sent with sendfile(), and disappears (normally before
// reaching the disk) when the last connection sending it is done. The file is
// anonymous: a crash leaves nothing behind. No PostgreSQL header here.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace spool {

class File {
 public:
  // An anonymous file in `dir` (created if missing): O_TMPFILE where the
  // file system has it, else a named file unlinked at once. nullptr, and the
  // reason in `why`, when neither works. `on_close` runs once: when the file
  // is closed, or at once when there is none (the worker's file descriptor
  // accounting).
  //
  // The file shares the data directory's file system with the WAL, and a
  // server that cannot write WAL stops: the file is only made when at least
  // `keep_free` bytes are free there, and takes at most half of what is free
  // beyond that, and never more than `max_bytes` (further appends fail, so
  // the rest stays in memory).
  static std::shared_ptr<File> create(const std::string& dir, std::string* why,
                                      std::function<void()> on_close = {},
                                      uint64_t keep_free = uint64_t{1} << 30,
                                      uint64_t max_bytes = UINT64_MAX);
  ~File();
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  int fd() const { return fd_; }
  uint64_t size() const { return size_; }
  // Appends and returns the offset the bytes start at, or -1 once a write
  // has failed (disk full, say) or would pass the size limit: the caller then
  // keeps its bytes in memory.
  int64_t append(std::string_view data);
  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }
  // Reads `length` bytes at `offset` (the SQL function and tests; the
  // server uses sendfile).
  bool read(uint64_t offset, uint64_t length, std::string* out) const;

 private:
  File(int fd, uint64_t limit, std::function<void()> on_close)
      : fd_(fd), limit_(limit), on_close_(std::move(on_close)) {}
  int fd_;
  uint64_t limit_;
  uint64_t size_ = 0;
  std::string error_;
  std::function<void()> on_close_;
};

// Sample lines kept encoded (a label set's number and the value's text,
// about 8 bytes instead of a 120-byte line) and written out as text only on
// the way to the client: a 20,000-table scrape then writes 10 MB to its file
// instead of 100 MB. What the encoding is belongs to metrics::Sink.
class Lines {
 public:
  // What writing out needs beyond the piece (blocks of a label table read
  // back from the file), held from one piece to the next by whoever writes
  // them out. A block is shared by the connections that hold it at once.
  struct Cache {
    // The table the blocks are of; its blocks read back (number, bytes) and
    // their size.
    const void* owner = nullptr;
    std::vector<std::pair<size_t, std::shared_ptr<const std::string>>> blocks;
    size_t bytes = 0;
    // The place in `blocks` of the block used last, and the table's bytes it
    // holds.
    size_t current = SIZE_MAX;
    uint64_t lo = 0, hi = 0;
  };
  virtual ~Lines() = default;
  // Appends the text of the whole samples encoded in `in` from *pos on,
  // until `out` holds at least `want` bytes or `in` ends; false (and *pos at
  // the end, *error set) on bytes that are not an encoding of these lines or
  // a label table that cannot be read back.
  virtual bool render(std::string_view in, size_t* pos, std::string* out, size_t want, Cache& cache,
                      std::string* error) const = 0;
};

// A piece of a response: text, or encoded lines; in memory, or a range of a
// File.
struct Piece {
  std::string text;  // the text, or the encoded lines, when in memory
  uint64_t file_offset = 0;
  uint64_t file_length = 0;                      // > 0: the piece is in the file, `text` is empty
  std::shared_ptr<const Lines> lines = nullptr;  // set: the bytes are encoded lines
  uint64_t rendered = 0;                         // encoded: the size of their text

  bool in_file() const { return file_length > 0; }
  bool encoded() const { return lines != nullptr; }
  // The bytes kept (in memory or in the file).
  uint64_t stored() const { return in_file() ? file_length : text.size(); }
  // The bytes sent.
  uint64_t size() const { return encoded() ? rendered : stored(); }
};

}  // namespace spool
