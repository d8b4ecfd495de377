// image.h: the images the diffusion backend reads and writes (PNG and JPEG, 8 bits).
//
// The article's clients send pictures as base64 PNG or JPEG (PIL's encode_image)
// and read back a base64 PNG; the pipeline works on float tensors. This is the
// one place that touches libpng and libjpeg, and it decodes untrusted bytes: every
// malformed or oversized file is a BadInput, never a crash or an unbounded
// allocation.
//
// Thread-safety: pure functions over values; safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace sagebox::endpoint {

// 8-bit pixels, row-major, interleaved: channels is 1 (gray), 3 (RGB) or 4 (RGBA).
struct Image {
  int width = 0;
  int height = 0;
  int channels = 0;
  std::vector<uint8_t> pixels;  // width * height * channels bytes
};

// Largest width * height a decoder accepts (4096 x 4096): a request cannot make
// the server allocate more than this from a small compressed file.
inline constexpr int64_t kMaxImagePixels = int64_t{4096} * 4096;

// Decodes PNG or JPEG, told apart by their signatures. Palette, 16-bit and
// gray+alpha PNGs are converted to 8-bit gray, RGB or RGBA (palette with
// transparency and gray+alpha become RGBA; 16-bit samples are taken as sRGB);
// CMYK JPEG is refused; a JPEG's EXIF orientation is not applied (as PIL's open).
// BadInput for any other format, a truncated or corrupt file (including a JPEG
// that libjpeg would patch up with a warning), a progressive JPEG of more than
// 500 scans, or an image larger than kMaxImagePixels (checked from the header,
// before any pixel memory is allocated). ResourceExhausted if memory runs out.
StatusOr<Image> DecodeImage(std::string_view bytes);

// Encodes as PNG (8-bit, the image's channels). InvalidArgument if the pixel
// buffer does not match width * height * channels or channels is not 1, 3 or 4.
StatusOr<std::string> EncodePng(const Image& image);

// Converts to `channels` (1, 3 or 4): gray is replicated, RGB to gray uses
// ITU-R BT.601 luma (rounded, the same values as PIL's convert("L")), alpha is
// dropped (or added as opaque). Returns an empty Image (width 0) if `channels` is
// not 1, 3 or 4 or `image` is inconsistent (as EncodePng would refuse it).
Image ConvertChannels(const Image& image, int channels);

// Bilinear resize to width x height (both >= 1), sampling pixel centres (as PIL's
// BILINEAR for upscaling). Downscaling widens the triangle filter to the scale
// factor, as PIL does, so detail is averaged rather than aliased; results are
// within one level of PIL's. The same size returns an exact copy. InvalidArgument
// for a size below 1 or above kMaxImagePixels, or an inconsistent `image`.
StatusOr<Image> Resize(const Image& image, int width, int height);

// The pipeline's tensor layout: planar (CHW) floats, each byte v mapped linearly
// from [0, 255] to [lo, hi] (lo + v / 255 * (hi - lo)); e.g. [-1, 1] for a VAE
// input, [0, 1] for a mask. Returns channels * height * width values, or an empty
// vector if `image` is inconsistent (as EncodePng would refuse it).
std::vector<float> ToPlanarFloat(const Image& image, float lo, float hi);

// The inverse: `chw` holds channels * height * width floats; each is mapped from
// [lo, hi] to [0, 255], clamped (NaN becomes 0) and rounded to the nearest byte,
// as diffusers' postprocessing does. ToPlanarFloat then FromPlanarFloat with the
// same range returns the original pixels. Returns an empty Image (width 0) if
// `chw` is null, channels is not 1, 3 or 4, a size is below 1 or the image is
// larger than kMaxImagePixels, or lo == hi or either is not finite.
Image FromPlanarFloat(const float* chw, int channels, int height, int width, float lo, float hi);

}  // namespace sagebox::endpoint
