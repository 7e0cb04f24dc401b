// Oid -> 32-bit number, for the lookups made per statistics entry and per
// catalog row. Open addressing in two arrays of 4-byte slots, at most half
// full: at 240,000 relations 4 MiB, where std::unordered_map took 10 (a
// node and a bucket per entry). No PostgreSQL header here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace pgx {

class OidMap {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;

  // Room for `expected` oids without growing.
  explicit OidMap(size_t expected = 0) { rehash(capacity_for(expected)); }

  // oid -> value; false (and nothing changes) when oid is 0 (InvalidOid,
  // never a relation) or already there: the first value stays.
  bool insert(uint32_t oid, uint32_t value) {
    if (oid == 0) return false;
    if (2 * (size_ + 1) > keys_.size()) rehash(2 * keys_.size());
    size_t i = slot(oid);
    while (keys_[i] != 0) {
      if (keys_[i] == oid) return false;
      i = (i + 1) & mask_;
    }
    keys_[i] = oid;
    values_[i] = value;
    size_++;
    return true;
  }

  // The value of `oid`, or kNone.
  uint32_t find(uint32_t oid) const noexcept {
    if (oid == 0) return kNone;
    for (size_t i = slot(oid);; i = (i + 1) & mask_) {
      if (keys_[i] == oid) return values_[i];
      if (keys_[i] == 0) return kNone;
    }
  }

  size_t size() const noexcept { return size_; }

 private:
  static size_t capacity_for(size_t n) {
    size_t c = 16;
    while (c < 2 * n) c *= 2;
    return c;
  }
  // Fibonacci hashing: the product's top bits, which every bit of the oid
  // reaches (oids that step by a power of two would share the low bits).
  size_t slot(uint32_t oid) const noexcept { return static_cast<uint32_t>(oid * 2654435761u) >> shift_; }
  void rehash(size_t capacity) {
    std::vector<uint32_t> keys(capacity, 0), values(capacity, kNone);
    keys.swap(keys_);
    values.swap(values_);
    mask_ = capacity - 1;
    shift_ = 32;
    for (size_t c = capacity; c > 1; c /= 2) shift_--;
    size_ = 0;
    for (size_t i = 0; i < keys.size(); i++) {
      if (keys[i] != 0) insert(keys[i], values[i]);
    }
  }

  std::vector<uint32_t> keys_, values_;
  size_t mask_ = 0, size_ = 0;
  int shift_ = 32;
};

}  // namespace pgx
