// Fuzz target for DecodeImage and EncodePng: any bytes give an Image or a
// BadInput (ResourceExhausted only if memory runs out), never a crash, a hang or
// an allocation beyond kMaxImagePixels. A decoded image is consistent (1, 3 or 4
// channels, width * height * channels bytes, within the limit), encodes to PNG,
// and that PNG decodes back to exactly the same pixels.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "endpoint/image.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using sagebox::StatusCode;
  namespace ep = sagebox::endpoint;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto image = ep::DecodeImage(bytes);
  if (!image.ok()) {
    const StatusCode code = image.status().code();
    if (code != StatusCode::kBadInput && code != StatusCode::kResourceExhausted) __builtin_trap();
    if (image.status().message().empty()) __builtin_trap();
    return 0;
  }
  const int c = image->channels;
  if (c != 1 && c != 3 && c != 4) __builtin_trap();
  if (image->width < 1 || image->height < 1) __builtin_trap();
  const int64_t pixels = int64_t{image->width} * image->height;
  if (pixels > ep::kMaxImagePixels) __builtin_trap();
  if (image->pixels.size() != static_cast<size_t>(pixels) * static_cast<size_t>(c)) {
    __builtin_trap();
  }
  auto png = ep::EncodePng(*image);
  if (!png.ok()) __builtin_trap();
  auto again = ep::DecodeImage(*png);
  if (!again.ok() || again->width != image->width || again->height != image->height ||
      again->channels != c || again->pixels != image->pixels) {
    __builtin_trap();
  }
  return 0;
}
