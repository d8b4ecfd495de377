#include "retrieval/index/vector_index.h"

// hnswlib 0.6.2 with its hand-written SIMD switched off. With USE_SSE its
// graph code also prefetches the neighbour *after* the last one of a link
// list, which for a full upper-layer list reads past the end of its malloc'd
// block (hnswalg.h, searchBaseLayer and repairConnectionsForUpdate): ASan
// aborts on it. The distance kernels below stand in for its SIMD ones. (Its
// SSE path also defines non-inline functions in a header.) Only this file
// includes hnswlib, so every instantiation sees the same definition.
#define NO_MANUAL_VECTORIZATION
#include <hnswlib/hnswlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <exception>
#include <limits>
#include <mutex>
#include <optional>
#include <queue>
#include <shared_mutex>
#include <string>
#include <system_error>
#include <unordered_set>
#include <utility>
#include <vector>

namespace sagebox::retrieval {
namespace {

using Hnsw = hnswlib::HierarchicalNSW<float>;
using hnswlib::tableint;
static_assert(sizeof(hnswlib::labeltype) == sizeof(uint64_t), "labels are 64-bit");

// hnswlib numbers slots with 32-bit tableint and uses ~0 as "no entry point".
constexpr size_t kMaxSlots = std::numeric_limits<tableint>::max() - 1;
// OpenSearch's documented range for m ("Keep this value between 2 and 100").
constexpr size_t kMinM = 2;
constexpr size_t kMaxM = 100;
// Far above any embedding model's output; bounds what a damaged header can ask for.
constexpr size_t kMaxDimension = 1 << 16;

std::string Errno() { return std::error_code(errno, std::generic_category()).message(); }

// ---- vectors ---------------------------------------------------------------

Status CheckVector(std::span<const float> v, size_t dimension, VectorSpace space,
                   const char* what) {
  if (v.size() != dimension) {
    return InvalidArgument(std::string(what) + " has " + std::to_string(v.size()) +
                           " components; the index has dimension " + std::to_string(dimension));
  }
  double norm2 = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    if (!std::isfinite(v[i])) {
      return InvalidArgument(std::string(what) + ": component " + std::to_string(i) + " is " +
                             (std::isnan(v[i]) ? "NaN" : "infinite"));
    }
    norm2 += static_cast<double>(v[i]) * v[i];
  }
  if (space == VectorSpace::kCosineSimil && norm2 == 0) {
    return InvalidArgument(std::string(what) +
                           " is the zero vector, which has no cosine similarity (cosinesimil)");
  }
  return Status::Ok();
}

// What hnswlib stores and compares: the vector itself, or for cosinesimil the
// unit vector, so that hnswlib's inner-product distance 1 - x·y is 1 - cos.
std::vector<float> Prepare(std::span<const float> v, VectorSpace space) {
  std::vector<float> out(v.begin(), v.end());
  if (space == VectorSpace::kCosineSimil) {
    double norm2 = 0;
    for (float x : v) norm2 += static_cast<double>(x) * x;
    const double inv = 1.0 / std::sqrt(norm2);
    for (float& x : out) x = static_cast<float>(x * inv);
  }
  return out;
}

// hnswlib's distance -> OpenSearch's d. L2Space returns the squared Euclidean
// distance, OpenSearch's l2 d. InnerProductSpace returns 1 - x·y: on unit
// vectors that is 1 - cos (cosinesimil's d); for innerproduct d = -x·y.
double OpenSearchDistance(VectorSpace space, float hnsw_distance) {
  if (space == VectorSpace::kInnerProduct) return static_cast<double>(hnsw_distance) - 1.0;
  return hnsw_distance;
}

// Four float lanes (GCC/Clang vector extension, one SSE register on x86-64,
// NEON on arm64), two accumulators: eight independent partial sums instead of
// one serial chain. Unaligned loads go through memcpy.
typedef float Lanes __attribute__((vector_size(4 * sizeof(float))));  // NOLINT(modernize-use-using)
constexpr size_t kLanes = 4;

Lanes Load(const float* p) {
  Lanes v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

float Sum(const Lanes& a, const Lanes& b) {
  const Lanes v = a + b;
  return (v[0] + v[1]) + (v[2] + v[3]);
}

// Squared Euclidean distance, as hnswlib's L2Space.
float L2Squared(const void* a, const void* b, const void* param) {
  const size_t n = *static_cast<const size_t*>(param);
  const auto* x = static_cast<const float*>(a);
  const auto* y = static_cast<const float*>(b);
  Lanes s0 = {};
  Lanes s1 = {};
  size_t i = 0;
  for (; i + 2 * kLanes <= n; i += 2 * kLanes) {
    const Lanes d0 = Load(x + i) - Load(y + i);
    const Lanes d1 = Load(x + i + kLanes) - Load(y + i + kLanes);
    s0 += d0 * d0;
    s1 += d1 * d1;
  }
  float s = Sum(s0, s1);
  for (; i < n; ++i) s += (x[i] - y[i]) * (x[i] - y[i]);
  return s;
}

// 1 - x·y, as hnswlib's InnerProductSpace.
float InnerProductDistance(const void* a, const void* b, const void* param) {
  const size_t n = *static_cast<const size_t*>(param);
  const auto* x = static_cast<const float*>(a);
  const auto* y = static_cast<const float*>(b);
  Lanes s0 = {};
  Lanes s1 = {};
  size_t i = 0;
  for (; i + 2 * kLanes <= n; i += 2 * kLanes) {
    s0 += Load(x + i) * Load(y + i);
    s1 += Load(x + i + kLanes) * Load(y + i + kLanes);
  }
  float s = Sum(s0, s1);
  for (; i < n; ++i) s += x[i] * y[i];
  return 1.0F - s;
}

// hnswlib's space interface over the kernels above.
class Space final : public hnswlib::SpaceInterface<float> {
 public:
  Space(VectorSpace space, size_t dimension)
      : dimension_(dimension),
        distance_(space == VectorSpace::kL2 ? &L2Squared : &InnerProductDistance) {}
  size_t get_data_size() override { return dimension_ * sizeof(float); }
  hnswlib::DISTFUNC<float> get_dist_func() override { return distance_; }
  void* get_dist_func_param() override { return &dimension_; }

 private:
  size_t dimension_;
  hnswlib::DISTFUNC<float> distance_;
};

std::unique_ptr<hnswlib::SpaceInterface<float>> MakeSpace(VectorSpace space, size_t dimension) {
  return std::make_unique<Space>(space, dimension);
}

Status CheckParams(size_t dimension, const HnswParams& p) {
  if (dimension == 0 || dimension > kMaxDimension) {
    return InvalidArgument("dimension " + std::to_string(dimension) + ": expected 1.." +
                           std::to_string(kMaxDimension));
  }
  if (p.m < kMinM || p.m > kMaxM) {
    return InvalidArgument("m = " + std::to_string(p.m) + ": expected 2..100");
  }
  if (p.ef_construction == 0) return InvalidArgument("ef_construction must be at least 1");
  if (p.ef_search == 0) return InvalidArgument("ef_search must be at least 1");
  return Status::Ok();
}

// ---- the file format -------------------------------------------------------
//
// All integers little-endian (the machine's order: hnswlib's payload is raw
// memory anyway, and the magic catches a byte-swapped reader).
//
//   0  8  magic "SBXHNSW1"
//   8  4  format version (1)
//  12  4  space: 0 l2, 1 cosinesimil, 2 innerproduct
//  16  8  dimension
//  24  8  m
//  32  8  ef_construction
//  40  8  ef_search
//  48  8  slots in use (hnswlib's cur_element_count, removed ones included)
//  56  8  live labels
//  64  8  payload bytes (hnswlib's saveIndex output)
//  72  4  CRC32 of bytes [0, 72)
//  76  4  zero
//  80  .. payload
//  end-4  CRC32 of the payload

constexpr char kMagic[8] = {'S', 'B', 'X', 'H', 'N', 'S', 'W', '1'};
constexpr uint32_t kFormatVersion = 1;
constexpr size_t kHeaderBytes = 80;
constexpr size_t kTrailerBytes = 4;

struct FileHeader {
  uint32_t version = kFormatVersion;
  uint32_t space = 0;
  uint64_t dimension = 0, m = 0, ef_construction = 0, ef_search = 0;
  uint64_t slots = 0, live = 0, payload_bytes = 0;
};

template <typename T>
void Put(char* buf, size_t at, T v) {
  std::memcpy(buf + at, &v, sizeof v);
}
template <typename T>
T Get(const char* buf, size_t at) {
  T v{};
  std::memcpy(&v, buf + at, sizeof v);
  return v;
}

uint32_t Crc32(uint32_t crc, const char* data, size_t n) {
  uLong c = crc;
  while (n > 0) {
    const uInt chunk = static_cast<uInt>(std::min<size_t>(n, 1U << 30));
    c = crc32(c, reinterpret_cast<const Bytef*>(data), chunk);
    data += chunk;
    n -= chunk;
  }
  return static_cast<uint32_t>(c);
}

std::string EncodeHeader(const FileHeader& h) {
  std::string b(kHeaderBytes, '\0');
  std::memcpy(b.data(), kMagic, sizeof kMagic);
  Put(b.data(), 8, h.version);
  Put(b.data(), 12, h.space);
  Put(b.data(), 16, h.dimension);
  Put(b.data(), 24, h.m);
  Put(b.data(), 32, h.ef_construction);
  Put(b.data(), 40, h.ef_search);
  Put(b.data(), 48, h.slots);
  Put(b.data(), 56, h.live);
  Put(b.data(), 64, h.payload_bytes);
  Put(b.data(), 72, Crc32(0, b.data(), 72));
  return b;
}

// A file in memory (memfd) with a path: hnswlib 0.6.2 only saves to and loads
// from a path, and this lets it do so without a second file on disk that a
// crash could leave behind.
class MemFile {
 public:
  MemFile() : fd_(memfd_create("sagebox-hnsw", MFD_CLOEXEC)) {}
  ~MemFile() {
    if (fd_ >= 0) close(fd_);
  }
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;

  bool ok() const { return fd_ >= 0; }
  std::string path() const { return "/proc/self/fd/" + std::to_string(fd_); }
  StatusOr<uint64_t> Size() const {
    struct stat st {};
    if (fstat(fd_, &st) != 0) return IoError("memfd: " + Errno());
    return static_cast<uint64_t>(st.st_size);
  }
  Status ReadAt(uint64_t offset, char* buf, size_t n) const {
    while (n > 0) {
      const ssize_t r = pread(fd_, buf, n, static_cast<off_t>(offset));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return IoError("memfd read: " + (r < 0 ? Errno() : std::string("short")));
      buf += r;
      n -= static_cast<size_t>(r);
      offset += static_cast<uint64_t>(r);
    }
    return Status::Ok();
  }
  Status Write(std::string_view data) {
    while (!data.empty()) {
      const ssize_t r = write(fd_, data.data(), data.size());
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return IoError("memfd write: " + (r < 0 ? Errno() : std::string("short")));
      data.remove_prefix(static_cast<size_t>(r));
    }
    return Status::Ok();
  }

 private:
  int fd_;
};

// The fixed part of hnswlib 0.6.2's saveIndex output, in its order
// (hnswalg.h, saveIndex): six size_t, int maxlevel, tableint entry point,
// three size_t, double mult, size_t ef_construction.
constexpr size_t kHnswHeaderBytes = 6 * 8 + 4 + 4 + 3 * 8 + 8 + 8;

// Checks hnswlib's serialised graph against our header and its own structure,
// so that hnswlib's loader (which trusts every offset and id it reads) and
// every later search only ever see a well-formed graph. Returns a description
// of the first problem, or "" when the payload is sound.
std::string CheckGraph(const std::string& p, const FileHeader& h) {
  if (p.size() < kHnswHeaderBytes) return "graph header is cut short";
  const char* b = p.data();
  const auto offset_level0 = Get<uint64_t>(b, 0);
  const auto count = Get<uint64_t>(b, 16);
  const auto per_element = Get<uint64_t>(b, 24);
  const auto label_offset = Get<uint64_t>(b, 32);
  const auto offset_data = Get<uint64_t>(b, 40);
  const auto max_level = Get<int32_t>(b, 48);
  const auto entry_point = Get<uint32_t>(b, 52);
  const auto max_m = Get<uint64_t>(b, 56);
  const auto max_m0 = Get<uint64_t>(b, 64);
  const auto m = Get<uint64_t>(b, 72);
  const auto mult = Get<double>(b, 80);
  const auto ef_construction = Get<uint64_t>(b, 88);

  const uint64_t links0 = h.m * 2 * sizeof(tableint) + sizeof(uint32_t);
  const uint64_t data_bytes = h.dimension * sizeof(float);
  if (offset_level0 != 0 || count != h.slots || max_m != h.m || max_m0 != 2 * h.m || m != h.m ||
      ef_construction != std::max(h.ef_construction, h.m) || offset_data != links0 ||
      label_offset != links0 + data_bytes ||
      per_element != links0 + data_bytes + sizeof(hnswlib::labeltype)) {
    return "graph parameters disagree with the header";
  }
  if (!(std::fabs(mult * std::log(static_cast<double>(h.m)) - 1.0) < 1e-9)) {
    return "graph level multiplier disagrees with m";
  }
  // Levels are floor(-ln(u) * mult) with u >= 2^-53 (a double in (0, 1)), so
  // below 64 for any m >= 2.
  if (count == 0 ? (max_level != -1) : (max_level < 0 || max_level > 64 || entry_point >= count)) {
    return "graph entry point or top level out of range";
  }
  if (count > (p.size() - kHnswHeaderBytes) / per_element) return "graph is cut short";

  const size_t n = count;
  const uint64_t links_upper = h.m * sizeof(tableint) + sizeof(uint32_t);
  const char* level0 = b + kHnswHeaderBytes;
  // Pass 1: every element's level, from the sizes of its upper link lists.
  std::vector<int> levels(n, 0);
  std::vector<size_t> upper_at(n, 0);
  size_t at = kHnswHeaderBytes + n * per_element;
  for (size_t i = 0; i < n; ++i) {
    if (p.size() - at < sizeof(uint32_t)) return "graph link lists are cut short";
    const auto bytes = Get<uint32_t>(b, at);
    at += sizeof(uint32_t);
    if (bytes % links_upper != 0 || bytes / links_upper > static_cast<uint64_t>(max_level) ||
        p.size() - at < bytes) {
      return "element " + std::to_string(i) + " has a malformed upper link list";
    }
    levels[i] = static_cast<int>(bytes / links_upper);
    upper_at[i] = at;
    at += bytes;
  }
  if (at != p.size()) return "graph has trailing bytes";
  if (n > 0 && levels[entry_point] != max_level) return "entry point is not on the top level";

  // Pass 2: every link list within its bound and pointing at an element that
  // exists on that level; every label once; the live count.
  std::unordered_set<uint64_t> labels;
  labels.reserve(n);
  uint64_t live = 0;
  auto check_list = [&](const char* list, uint64_t bound, int level) -> bool {
    const auto header = Get<uint32_t>(list, 0);
    const uint32_t size = header & 0xFFFFU;  // hnswlib's getListCount: the low 16 bits
    if (size > bound) return false;
    for (uint32_t j = 0; j < size; ++j) {
      const auto id = Get<uint32_t>(list, sizeof(uint32_t) * (1 + j));
      if (id >= n || levels[id] < level) return false;
    }
    return true;
  };
  for (size_t i = 0; i < n; ++i) {
    const char* element = level0 + i * per_element;
    if (!check_list(element, max_m0, 0)) {
      return "element " + std::to_string(i) + " has a malformed link list on level 0";
    }
    for (int level = 1; level <= levels[i]; ++level) {
      if (!check_list(b + upper_at[i] + (level - 1) * links_upper, max_m, level)) {
        return "element " + std::to_string(i) + " has a malformed link list on level " +
               std::to_string(level);
      }
    }
    if (!labels.insert(Get<uint64_t>(element, label_offset)).second) {
      return "label " + std::to_string(Get<uint64_t>(element, label_offset)) + " appears twice";
    }
    // The delete mark: bit 0 of the third byte of the level-0 list header
    // (hnswlib's DELETE_MARK).
    if ((static_cast<unsigned char>(element[2]) & 0x01U) == 0) ++live;
  }
  if (live != h.live) return "live count disagrees with the header";
  return "";
}

// ---- searching -------------------------------------------------------------

using Candidate = std::pair<float, uint64_t>;  // (hnswlib distance, label)

// Keeps the k smallest candidates by (distance, label).
class TopK {
 public:
  explicit TopK(size_t k) : k_(k) {}
  void Offer(float d, uint64_t label) {
    const Candidate c{d, label};
    if (heap_.size() < k_) {
      heap_.push_back(c);
      std::push_heap(heap_.begin(), heap_.end());
    } else if (c < heap_.front()) {
      std::pop_heap(heap_.begin(), heap_.end());
      heap_.back() = c;
      std::push_heap(heap_.begin(), heap_.end());
    }
  }
  size_t size() const { return heap_.size(); }
  std::vector<Candidate> Sorted() && {
    std::sort_heap(heap_.begin(), heap_.end());
    return std::move(heap_);
  }

 private:
  size_t k_;
  std::vector<Candidate> heap_;  // max-heap: the worst kept candidate on top
};

}  // namespace

StatusOr<VectorSpace> ParseVectorSpace(std::string_view name) {
  if (name == "l2") return VectorSpace::kL2;
  if (name == "cosinesimil") return VectorSpace::kCosineSimil;
  if (name == "innerproduct") return VectorSpace::kInnerProduct;
  return InvalidArgument("space_type \"" + std::string(name) +
                         "\": expected l2, cosinesimil or innerproduct");
}

std::string_view VectorSpaceName(VectorSpace space) {
  switch (space) {
    case VectorSpace::kL2:
      return "l2";
    case VectorSpace::kCosineSimil:
      return "cosinesimil";
    case VectorSpace::kInnerProduct:
      return "innerproduct";
  }
  return "?";
}

double SpaceScore(VectorSpace space, double d) {
  switch (space) {
    case VectorSpace::kL2:
      return 1.0 / (1.0 + d);
    case VectorSpace::kCosineSimil:
      return (2.0 - d) / 2.0;
    case VectorSpace::kInnerProduct:
      return d >= 0 ? 1.0 / (1.0 + d) : 1.0 - d;
  }
  return 0;
}

struct VectorIndex::Impl {
  // Declared before `hnsw`: the graph keeps a pointer into the space's
  // distance parameters, so the space must outlive it.
  std::unique_ptr<hnswlib::SpaceInterface<float>> space;
  std::unique_ptr<Hnsw> hnsw;
  HnswParams params;
  // Readers share `mu`, writers own it. glibc's rwlock prefers readers, so a
  // steady stream of searches would starve an Add forever; every locker first
  // passes `gate`, which a writer holds while it waits for the readers in
  // flight to drain, so new searches queue behind it.
  mutable std::shared_mutex mu;
  mutable std::mutex gate;

  std::shared_lock<std::shared_mutex> ReadLock() const {
    std::lock_guard<std::mutex> g(gate);
    return std::shared_lock<std::shared_mutex>(mu);
  }
  std::unique_lock<std::shared_mutex> WriteLock() const {
    std::lock_guard<std::mutex> g(gate);
    return std::unique_lock<std::shared_mutex>(mu);
  }

  size_t Live() const { return hnsw->cur_element_count - hnsw->num_deleted_; }

  // The slot of a live label, or nullopt.
  std::optional<tableint> Slot(uint64_t label) const {
    auto it = hnsw->label_lookup_.find(label);
    if (it == hnsw->label_lookup_.end() || hnsw->isMarkedDeleted(it->second)) return std::nullopt;
    return it->second;
  }

  float Distance(const float* q, tableint slot) const {
    return hnsw->fstdistfunc_(q, hnsw->getDataByInternalId(slot), hnsw->dist_func_param_);
  }

  // The exact scan over `slots` (every slot when null).
  std::vector<Candidate> Scan(const float* q, size_t k, const std::vector<tableint>* slots) const {
    TopK top(k);
    if (slots != nullptr) {
      for (tableint s : *slots) top.Offer(Distance(q, s), hnsw->getExternalLabel(s));
    } else {
      for (tableint s = 0; s < hnsw->cur_element_count; ++s) {
        if (!hnsw->isMarkedDeleted(s)) top.Offer(Distance(q, s), hnsw->getExternalLabel(s));
      }
    }
    return std::move(top).Sorted();
  }

  // A graph walk for the `fetch` nearest, keeping those `keep` accepts.
  template <typename Keep>
  StatusOr<std::vector<Candidate>> Walk(const float* q, size_t k, size_t fetch, Keep keep) const {
    std::priority_queue<std::pair<float, hnswlib::labeltype>> found;
    try {
      found = hnsw->searchKnn(q, fetch);
    } catch (const std::exception& e) {
      return Internal(std::string("hnswlib search: ") + e.what());
    }
    TopK top(k);
    for (; !found.empty(); found.pop()) {
      if (keep(found.top().second)) top.Offer(found.top().first, found.top().second);
    }
    return std::move(top).Sorted();
  }
};

VectorIndex::VectorIndex(size_t dimension, VectorSpace space, std::unique_ptr<Impl> impl)
    : dimension_(dimension), space_(space), impl_(std::move(impl)) {}

VectorIndex::~VectorIndex() = default;

StatusOr<std::unique_ptr<VectorIndex>> VectorIndex::Create(size_t dimension, VectorSpace space,
                                                           const HnswParams& params) {
  RETURN_IF_ERROR(CheckParams(dimension, params));
  auto impl = std::make_unique<Impl>();
  impl->params = params;
  impl->params.initial_capacity = std::clamp<size_t>(params.initial_capacity, 16, kMaxSlots);
  impl->space = MakeSpace(space, dimension);
  try {
    impl->hnsw = std::make_unique<Hnsw>(impl->space.get(), impl->params.initial_capacity, params.m,
                                        params.ef_construction, params.seed);
  } catch (const std::exception& e) {
    return ResourceExhausted(std::string("cannot allocate the vector index: ") + e.what());
  }
  impl->hnsw->setEf(params.ef_search);
  return std::unique_ptr<VectorIndex>(new VectorIndex(dimension, space, std::move(impl)));
}

Status VectorIndex::Add(uint64_t label, std::span<const float> vector) {
  RETURN_IF_ERROR(CheckVector(vector, dimension_, space_, "vector"));
  const std::vector<float> v = Prepare(vector, space_);
  auto lock = impl_->WriteLock();
  Hnsw& h = *impl_->hnsw;
  const bool is_new = h.label_lookup_.count(label) == 0;
  if (is_new && h.cur_element_count >= h.max_elements_) {
    if (h.max_elements_ >= kMaxSlots) {
      return ResourceExhausted("the vector index is full (" + std::to_string(kMaxSlots) +
                               " slots)");
    }
    const size_t grown = std::min(kMaxSlots, std::max<size_t>(16, h.max_elements_ * 2));
    try {
      h.resizeIndex(grown);
    } catch (const std::exception& e) {
      return ResourceExhausted("cannot grow the vector index to " + std::to_string(grown) +
                               " slots: " + e.what());
    }
  }
  try {
    h.addPoint(v.data(), label);
  } catch (const std::exception& e) {
    return Internal("hnswlib addPoint of label " + std::to_string(label) + ": " + e.what());
  }
  return Status::Ok();
}

Status VectorIndex::Remove(uint64_t label) {
  auto lock = impl_->WriteLock();
  const std::optional<tableint> slot = impl_->Slot(label);
  if (!slot) return NotFound("label " + std::to_string(label) + " is not in the vector index");
  impl_->hnsw->markDeletedInternal(*slot);
  return Status::Ok();
}

Status VectorIndex::SetEfSearch(size_t ef) {
  if (ef == 0) return InvalidArgument("ef_search must be at least 1");
  auto lock = impl_->WriteLock();
  impl_->params.ef_search = ef;
  impl_->hnsw->setEf(ef);
  return Status::Ok();
}

bool VectorIndex::Contains(uint64_t label) const {
  auto lock = impl_->ReadLock();
  return impl_->Slot(label).has_value();
}

size_t VectorIndex::size() const {
  auto lock = impl_->ReadLock();
  return impl_->Live();
}

size_t VectorIndex::capacity() const {
  auto lock = impl_->ReadLock();
  return impl_->hnsw->max_elements_;
}

HnswParams VectorIndex::params() const {
  auto lock = impl_->ReadLock();
  return impl_->params;
}

StatusOr<std::vector<VectorHit>> VectorIndex::Search(std::span<const float> query,
                                                     const VectorSearchOptions& options,
                                                     VectorSearchInfo* info) const {
  if (options.k == 0) return InvalidArgument("k must be at least 1");
  RETURN_IF_ERROR(CheckVector(query, dimension_, space_, "query"));
  const std::vector<float> q = Prepare(query, space_);
  VectorSearchInfo local;
  VectorSearchInfo& how = info != nullptr ? *info : local;
  how = {};

  auto lock = impl_->ReadLock();
  const Impl& im = *impl_;
  const size_t live = im.Live();
  const size_t k = options.k;
  std::vector<Candidate> found;
  if (live == 0) {
    // Nothing to find (and hnswlib would walk from a removed entry point).
  } else if (options.filter == nullptr) {
    if (options.exact) {
      how.exact = true;
      found = im.Scan(q.data(), k, nullptr);
    } else {
      how.graph_fetch = k;
      how.graph_walks = 1;
      ASSIGN_OR_RETURN(found, im.Walk(q.data(), k, k, [](uint64_t) { return true; }));
    }
  } else {
    std::vector<tableint> allowed;
    allowed.reserve(std::min(options.filter->size(), live));
    for (uint64_t label : *options.filter) {
      if (auto slot = im.Slot(label)) allowed.push_back(*slot);
    }
    // PlanFiltered. Costs are counted in distance computations. The exact
    // scan of the allowed labels costs |allowed|. A graph walk asked for k'
    // results expands about max(k', ef_search) candidates on the bottom layer,
    // each with up to 2m neighbours: ~2m · max(k', ef_search). If the filter is
    // independent of the distance, a fraction p = |allowed| / live of the
    // walk's results pass it, so k' = 2k / p expects 2k survivors (a 2x
    // margin). Scan when that is no dearer than the walk, or when k' would
    // reach the whole index; otherwise walk, and if fewer than k survive,
    // double k' and re-plan, which ends in the scan at worst. A selective
    // filter (few allowed labels) therefore always scans, and the scan is
    // exact.
    const double p = static_cast<double>(allowed.size()) / static_cast<double>(live);
    size_t fetch =
        allowed.empty() ? 0 : static_cast<size_t>(std::ceil(2.0 * static_cast<double>(k) / p));
    auto keep = [&](uint64_t label) { return options.filter->count(label) > 0; };
    while (!allowed.empty()) {
      const double walk_cost = 2.0 * static_cast<double>(im.params.m) *
                               static_cast<double>(std::max(fetch, im.params.ef_search));
      if (options.exact || fetch >= live || walk_cost >= static_cast<double>(allowed.size())) {
        how.exact = true;
        found = im.Scan(q.data(), k, &allowed);
        break;
      }
      how.graph_fetch = fetch;
      ++how.graph_walks;
      ASSIGN_OR_RETURN(found, im.Walk(q.data(), k, fetch, keep));
      if (found.size() >= k) break;
      fetch *= 2;
    }
  }

  std::vector<VectorHit> hits;
  hits.reserve(found.size());
  for (const auto& [hd, label] : found) {
    const double d = OpenSearchDistance(space_, hd);
    hits.push_back({label, d, SpaceScore(space_, d)});
  }
  return hits;
}

Status VectorIndex::Save(Env* env, const std::string& path) const {
  MemFile mem;
  if (!mem.ok()) return IoError("memfd_create: " + Errno());
  FileHeader header;
  {
    auto lock = impl_->ReadLock();
    const Hnsw& h = *impl_->hnsw;
    try {
      // saveIndex only reads the graph; hnswlib just did not mark it const.
      const_cast<Hnsw&>(h).saveIndex(mem.path());
    } catch (const std::exception& e) {
      return Internal(std::string("hnswlib saveIndex: ") + e.what());
    }
    header.space = static_cast<uint32_t>(space_);
    header.dimension = dimension_;
    header.m = impl_->params.m;
    header.ef_construction = impl_->params.ef_construction;
    header.ef_search = impl_->params.ef_search;
    header.slots = h.cur_element_count;
    header.live = impl_->Live();
    // What saveIndex must have written; its ofstream reports no errors.
    uint64_t expected = kHnswHeaderBytes + h.cur_element_count * h.size_data_per_element_;
    for (size_t i = 0; i < h.cur_element_count; ++i) {
      expected += sizeof(uint32_t) + h.size_links_per_element_ * h.element_levels_[i];
    }
    header.payload_bytes = expected;
  }
  ASSIGN_OR_RETURN(uint64_t written, mem.Size());
  if (written != header.payload_bytes) {
    return Internal("hnswlib saveIndex wrote " + std::to_string(written) + " bytes, expected " +
                    std::to_string(header.payload_bytes));
  }

  const std::string tmp = path + ".tmp";
  Status st = [&]() -> Status {
    ASSIGN_OR_RETURN(auto f, env->OpenWritable(tmp));
    RETURN_IF_ERROR(f->Append(EncodeHeader(header)));
    uint32_t crc = 0;
    std::string buf(std::min<uint64_t>(header.payload_bytes, 1 << 20), '\0');
    for (uint64_t at = 0; at < header.payload_bytes;) {
      const size_t n = std::min<uint64_t>(buf.size(), header.payload_bytes - at);
      RETURN_IF_ERROR(mem.ReadAt(at, buf.data(), n));
      crc = Crc32(crc, buf.data(), n);
      RETURN_IF_ERROR(f->Append(std::string_view(buf.data(), n)));
      at += n;
    }
    char trailer[kTrailerBytes] = {};
    Put(trailer, 0, crc);
    RETURN_IF_ERROR(f->Append(std::string_view(trailer, sizeof trailer)));
    RETURN_IF_ERROR(f->Sync());
    RETURN_IF_ERROR(f->Close());
    RETURN_IF_ERROR(env->Rename(tmp, path));
    return env->SyncDir(Dirname(path));
  }();
  if (!st.ok()) {
    (void)env->Remove(tmp);  // best effort: the error that matters is st
    return st.WithContext("saving vector index " + path);
  }
  return Status::Ok();
}

StatusOr<std::unique_ptr<VectorIndex>> VectorIndex::Load(Env* env, const std::string& path) {
  if (!env->Exists(path)) return NotFound("vector index " + path + " does not exist");
  ASSIGN_OR_RETURN(auto file, env->OpenRandomAccess(path));
  const uint64_t size = file->Size();
  auto corrupt = [&](const std::string& what) {
    return Corruption("vector index " + path + ": " + what);
  };
  char head[kHeaderBytes] = {};
  const size_t head_n = static_cast<size_t>(std::min<uint64_t>(size, kHeaderBytes));
  RETURN_IF_ERROR(file->ReadAt(0, head_n, head));
  if (head_n < sizeof kMagic || std::memcmp(head, kMagic, sizeof kMagic) != 0) {
    return BadInput(path +
                    ": not a sagebox vector index (expected the magic \"SBXHNSW1\" at "
                    "byte 0)");
  }
  if (size < kHeaderBytes + kTrailerBytes) {
    return corrupt("truncated: " + std::to_string(size) + " bytes, shorter than a header");
  }
  FileHeader h;
  h.version = Get<uint32_t>(head, 8);
  if (h.version != kFormatVersion) {
    return BadInput(path + ": vector index format version " + std::to_string(h.version) +
                    ", this build reads version " + std::to_string(kFormatVersion));
  }
  if (Get<uint32_t>(head, 72) != Crc32(0, head, 72)) return corrupt("header CRC mismatch");
  h.space = Get<uint32_t>(head, 12);
  h.dimension = Get<uint64_t>(head, 16);
  h.m = Get<uint64_t>(head, 24);
  h.ef_construction = Get<uint64_t>(head, 32);
  h.ef_search = Get<uint64_t>(head, 40);
  h.slots = Get<uint64_t>(head, 48);
  h.live = Get<uint64_t>(head, 56);
  h.payload_bytes = Get<uint64_t>(head, 64);
  if (h.space > static_cast<uint32_t>(VectorSpace::kInnerProduct)) {
    return corrupt("unknown space " + std::to_string(h.space));
  }
  HnswParams params;
  params.m = h.m;
  params.ef_construction = h.ef_construction;
  params.ef_search = h.ef_search;
  if (Status st = CheckParams(h.dimension, params); !st.ok()) return corrupt(st.message());
  if (h.slots > kMaxSlots || h.live > h.slots) return corrupt("impossible element counts");
  if (h.payload_bytes != size - kHeaderBytes - kTrailerBytes) {
    return corrupt("truncated or padded: the header promises " +
                   std::to_string(h.payload_bytes + kHeaderBytes + kTrailerBytes) +
                   " bytes, the file has " + std::to_string(size));
  }

  std::string payload(h.payload_bytes, '\0');
  RETURN_IF_ERROR(file->ReadAt(kHeaderBytes, payload.size(), payload.data()));
  char trailer[kTrailerBytes] = {};
  RETURN_IF_ERROR(file->ReadAt(kHeaderBytes + payload.size(), kTrailerBytes, trailer));
  if (Get<uint32_t>(trailer, 0) != Crc32(0, payload.data(), payload.size())) {
    return corrupt("graph CRC mismatch");
  }
  if (std::string bad = CheckGraph(payload, h); !bad.empty()) return corrupt(bad);

  MemFile mem;
  if (!mem.ok()) return IoError("memfd_create: " + Errno());
  RETURN_IF_ERROR(mem.Write(payload));
  payload = std::string();  // hnswlib reads its own copy from the memfd

  const auto space = static_cast<VectorSpace>(h.space);
  auto impl = std::make_unique<Impl>();
  impl->params = params;
  impl->params.initial_capacity = std::max<size_t>(16, h.slots);
  impl->space = MakeSpace(space, h.dimension);
  // hnswlib 0.6.2's path constructor leaves num_deleted_ and the buffer
  // pointers uninitialised before loadIndex fills them (and adds to
  // num_deleted_); start from a defined state so neither the count nor the
  // destructor (should the loader throw) reads garbage.
  impl->hnsw = std::make_unique<Hnsw>(impl->space.get());
  Hnsw& g = *impl->hnsw;
  g.num_deleted_ = 0;
  g.cur_element_count = 0;
  g.data_level0_memory_ = nullptr;
  g.linkLists_ = nullptr;
  g.visited_list_pool_ = nullptr;
  try {
    g.loadIndex(mem.path(), impl->space.get(), impl->params.initial_capacity);
  } catch (const std::exception& e) {
    // Only reachable when memory runs out (the checks above passed). Leak the
    // per-element lists rather than let the destructor walk a half-built graph.
    g.cur_element_count = 0;
    return corrupt(std::string("hnswlib loadIndex: ") + e.what());
  }
  g.setEf(params.ef_search);
  return std::unique_ptr<VectorIndex>(new VectorIndex(h.dimension, space, std::move(impl)));
}

}  // namespace sagebox::retrieval
