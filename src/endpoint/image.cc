#include "endpoint/image.h"

// libjpeg's headers need size_t and FILE declared before they are included.
#include <csetjmp>
#include <cstddef>
#include <cstdio>
// clang-format off
#include <jpeglib.h>
#include <jerror.h>
// clang-format on
#include <png.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>
#include <new>
#include <utility>

namespace sagebox::endpoint {
namespace {

constexpr std::string_view kPngSignature("\x89PNG\r\n\x1a\n", 8);
constexpr std::string_view kJpegSignature("\xFF\xD8\xFF", 3);

// A progressive JPEG may carry any number of scans, each a full pass over the
// coefficients; a few kilobytes of crafted scans would keep a request thread busy
// for minutes. Real encoders write about ten (libjpeg-turbo's own advice is 500).
constexpr int kMaxJpegScans = 500;

bool ValidChannels(int channels) { return channels == 1 || channels == 3 || channels == 4; }

std::string Dims(int64_t width, int64_t height) {
  return std::to_string(width) + "x" + std::to_string(height);
}

// The limit, as the caller's error message states it.
std::string TooLarge(const char* format, int64_t width, int64_t height) {
  return std::string(format) + ": image is " + Dims(width, height) +
         " pixels, more than the limit of " + std::to_string(kMaxImagePixels) +
         " pixels (4096x4096)";
}

// OK when the pixel buffer matches the declared size and the channels are 1, 3 or 4.
Status CheckImage(const Image& image) {
  if (!ValidChannels(image.channels)) {
    return InvalidArgument("image: channels is " + std::to_string(image.channels) +
                           ", expected 1, 3 or 4");
  }
  if (image.width < 1 || image.height < 1) {
    return InvalidArgument("image: size is " + Dims(image.width, image.height) +
                           ", expected at least 1x1");
  }
  if (int64_t{image.width} * image.height > kMaxImagePixels) {
    return InvalidArgument(TooLarge("image", image.width, image.height));
  }
  const size_t expected = static_cast<size_t>(image.width) * static_cast<size_t>(image.height) *
                          static_cast<size_t>(image.channels);
  if (image.pixels.size() != expected) {
    return InvalidArgument("image: " + Dims(image.width, image.height) + "x" +
                           std::to_string(image.channels) + " needs " + std::to_string(expected) +
                           " bytes of pixels, found " + std::to_string(image.pixels.size()));
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// PNG, through libpng's simplified API: it runs libpng's setjmp/longjmp error
// handling inside its own C frames (png_safe_execute) and reports failures in
// png_image::message, so no longjmp ever crosses a frame of ours.

// Frees libpng's read state however the decode ends.
struct PngImageGuard {
  png_image* image;
  ~PngImageGuard() { png_image_free(image); }
};

StatusOr<Image> DecodePng(std::string_view bytes) {
  png_image png;
  std::memset(&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  const PngImageGuard guard{&png};
  if (png_image_begin_read_from_memory(&png, bytes.data(), bytes.size()) == 0) {
    return BadInput(std::string("PNG: unreadable header: ") + png.message);
  }
  // Before any pixel memory exists: a 60-byte file can claim 100000x100000.
  if (int64_t{png.width} * png.height > kMaxImagePixels) {
    return BadInput(TooLarge("PNG", png.width, png.height));
  }
  // Palette, 16-bit and gray+alpha files become the nearest 8-bit layout the
  // pipeline knows; gray+alpha has no such layout, so it widens to RGBA.
  const bool alpha = (png.format & PNG_FORMAT_FLAG_ALPHA) != 0;
  const bool color = (png.format & PNG_FORMAT_FLAG_COLOR) != 0;
  Image out;
  out.width = static_cast<int>(png.width);
  out.height = static_cast<int>(png.height);
  if (alpha) {
    png.format = PNG_FORMAT_RGBA;
    out.channels = 4;
  } else if (color) {
    png.format = PNG_FORMAT_RGB;
    out.channels = 3;
  } else {
    png.format = PNG_FORMAT_GRAY;
    out.channels = 1;
  }
  // Without this flag libpng takes a 16-bit file without gAMA as linear light and
  // re-encodes it to sRGB, brightening it; PIL and every encoder the clients use
  // write 16-bit samples that are already sRGB.
  png.flags |= PNG_IMAGE_FLAG_16BIT_sRGB;
  out.pixels.resize(PNG_IMAGE_SIZE(png));
  if (png_image_finish_read(&png, nullptr, out.pixels.data(), 0, nullptr) == 0) {
    return BadInput(std::string("PNG: corrupt or truncated image data: ") + png.message);
  }
  return out;
}

// ---------------------------------------------------------------------------
// JPEG. libjpeg reports errors by calling error_exit, which by default exit()s
// the process. Ours longjmps back to the phase function that armed the jump
// buffer. Those phase functions (JpegReadHeader, JpegReadPixels) are plain C:
// their frames hold no object with a destructor, and the only frames the jump
// skips are libjpeg's, so nothing is leaked or left half-destroyed. Everything
// that owns memory (the output vector, the cleanup guard) lives in DecodeJpeg,
// which never calls setjmp.

struct JpegErrorManager {
  jpeg_error_mgr pub;  // first member: libjpeg sees only this part
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

// All decoder state in one trivially destructible block.
struct JpegDecoder {
  jpeg_decompress_struct cinfo;
  JpegErrorManager error;
  jpeg_progress_mgr progress;
  bool created;
};

[[noreturn]] void JpegErrorExit(j_common_ptr cinfo) {
  auto* error = reinterpret_cast<JpegErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, error->message);
  std::longjmp(error->jump, 1);  // NOLINT(cert-err52-cpp): see the note above JpegErrorManager
}

// libjpeg "repairs" a truncated or corrupt stream with a warning (it pads the
// missing data with gray) and carries on. A picture with invented pixels is not
// what the client sent, so a warning ends the decode like an error; trace
// messages (level > 0) are ignored.
void JpegEmitMessage(j_common_ptr cinfo, int msg_level) {
  if (msg_level < 0) JpegErrorExit(cinfo);
}

void JpegProgress(j_common_ptr cinfo) {
  if (cinfo->is_decompressor == 0) return;
  auto* d = reinterpret_cast<j_decompress_ptr>(cinfo);
  if (d->input_scan_number > kMaxJpegScans) {
    auto* error = reinterpret_cast<JpegErrorManager*>(cinfo->err);
    (void)std::snprintf(error->message, sizeof error->message, "more than %d progressive scans",
                        kMaxJpegScans);
    std::longjmp(error->jump, 1);  // NOLINT(cert-err52-cpp): see the note above JpegErrorManager
  }
}

// Creates the decoder over `data` and reads the markers up to the first scan.
// False (with d->error.message set) if libjpeg reports an error.
bool JpegReadHeader(JpegDecoder* d, const unsigned char* data, unsigned long size) {
  d->cinfo.err = jpeg_std_error(&d->error.pub);
  d->error.pub.error_exit = JpegErrorExit;
  d->error.pub.emit_message = JpegEmitMessage;
  d->error.message[0] = '\0';
  if (setjmp(d->error.jump) != 0) return false;  // NOLINT(cert-err52-cpp)
  jpeg_create_decompress(&d->cinfo);
  d->created = true;
  d->progress.progress_monitor = JpegProgress;
  d->cinfo.progress = &d->progress;
  jpeg_mem_src(&d->cinfo, data, size);
  jpeg_read_header(&d->cinfo, TRUE);
  return true;
}

// Decodes every scanline into `out` (rows of `row_bytes`), which the caller sized
// from the header. False (with d->error.message set) if libjpeg reports an error.
bool JpegReadPixels(JpegDecoder* d, unsigned char* out, size_t row_bytes) {
  if (setjmp(d->error.jump) != 0) return false;  // NOLINT(cert-err52-cpp)
  jpeg_start_decompress(&d->cinfo);
  while (d->cinfo.output_scanline < d->cinfo.output_height) {
    JSAMPROW row = out + static_cast<size_t>(d->cinfo.output_scanline) * row_bytes;
    jpeg_read_scanlines(&d->cinfo, &row, 1);
  }
  jpeg_finish_decompress(&d->cinfo);
  return true;
}

struct JpegDecoderGuard {
  JpegDecoder* d;
  ~JpegDecoderGuard() {
    if (d->created) jpeg_destroy_decompress(&d->cinfo);
  }
};

StatusOr<Image> DecodeJpeg(std::string_view bytes) {
  JpegDecoder d;
  std::memset(&d, 0, sizeof d);
  const JpegDecoderGuard guard{&d};
  if (!JpegReadHeader(&d, reinterpret_cast<const unsigned char*>(bytes.data()),
                      static_cast<unsigned long>(bytes.size()))) {
    return BadInput(std::string("JPEG: unreadable header: ") + d.error.message);
  }
  const int64_t width = d.cinfo.image_width;
  const int64_t height = d.cinfo.image_height;
  if (width * height > kMaxImagePixels) return BadInput(TooLarge("JPEG", width, height));
  Image out;
  switch (d.cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE:
      d.cinfo.out_color_space = JCS_GRAYSCALE;
      out.channels = 1;
      break;
    case JCS_YCbCr:
    case JCS_RGB:
      d.cinfo.out_color_space = JCS_RGB;
      out.channels = 3;
      break;
    case JCS_CMYK:
    case JCS_YCCK:
      return BadInput("JPEG: CMYK images are not supported, expected grayscale or RGB");
    default:
      return BadInput("JPEG: unknown color space " + std::to_string(d.cinfo.jpeg_color_space) +
                      " with " + std::to_string(d.cinfo.num_components) +
                      " components, expected grayscale or RGB");
  }
  out.width = static_cast<int>(width);
  out.height = static_cast<int>(height);
  const size_t row_bytes = static_cast<size_t>(width) * static_cast<size_t>(out.channels);
  out.pixels.resize(row_bytes * static_cast<size_t>(height));
  if (!JpegReadPixels(&d, out.pixels.data(), row_bytes)) {
    return BadInput(std::string("JPEG: corrupt or truncated image data: ") + d.error.message);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Resize: a separable triangle filter, as PIL's BILINEAR. Upscaling it is plain
// bilinear interpolation between the pixel centres around each output centre;
// downscaling it widens to cover every source pixel under the output pixel, so a
// 512 -> 128 reduction averages instead of aliasing.

struct Taps {
  int first = 0;               // first source index
  std::vector<float> weights;  // normalised, for first, first + 1, ...
};

std::vector<Taps> ComputeTaps(int in_size, int out_size) {
  const double scale = static_cast<double>(in_size) / out_size;
  const double support = std::max(scale, 1.0);  // triangle radius in source pixels
  std::vector<Taps> taps(static_cast<size_t>(out_size));
  for (int o = 0; o < out_size; ++o) {
    const double center = (o + 0.5) * scale;  // in source pixel units, edges at integers
    const int lo = std::max(0, static_cast<int>(std::floor(center - support)));
    const int hi = std::min(in_size, static_cast<int>(std::ceil(center + support)));
    Taps& t = taps[static_cast<size_t>(o)];
    t.first = lo;
    double total = 0;
    std::vector<double> w;
    for (int i = lo; i < hi; ++i) {
      const double distance = std::abs(i + 0.5 - center) / support;
      w.push_back(std::max(0.0, 1.0 - distance));
      total += w.back();
    }
    // Samples past the edge are dropped and the rest renormalised: the edge pixel
    // repeats, as PIL does.
    for (const double v : w) t.weights.push_back(static_cast<float>(v / total));
  }
  return taps;
}

uint8_t ToByte(float v) {
  if (!(v > 0.0F)) return 0;  // also NaN
  if (v >= 255.0F) return 255;
  return static_cast<uint8_t>(std::lround(v));
}

}  // namespace

StatusOr<Image> DecodeImage(std::string_view bytes) {
  if (bytes.empty()) return BadInput("image: empty, expected a PNG or JPEG file");
  try {
    if (bytes.substr(0, kPngSignature.size()) == kPngSignature) return DecodePng(bytes);
    if (bytes.substr(0, kJpegSignature.size()) == kJpegSignature) return DecodeJpeg(bytes);
  } catch (const std::bad_alloc&) {
    return ResourceExhausted("image: out of memory while decoding " + std::to_string(bytes.size()) +
                             " bytes");
  }
  return BadInput("image: " + std::to_string(bytes.size()) +
                  " bytes that are neither PNG nor JPEG (expected the signature \\x89PNG or "
                  "\\xFF\\xD8\\xFF)");
}

StatusOr<std::string> EncodePng(const Image& image) {
  RETURN_IF_ERROR(CheckImage(image));
  png_image png;
  std::memset(&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  png.width = static_cast<png_uint_32>(image.width);
  png.height = static_cast<png_uint_32>(image.height);
  png.format = image.channels == 1   ? PNG_FORMAT_GRAY
               : image.channels == 3 ? PNG_FORMAT_RGB
                                     : PNG_FORMAT_RGBA;
  try {
    // First pass sizes the buffer, second writes; libpng frees its state itself.
    png_alloc_size_t size = 0;
    if (png_image_write_get_memory_size(png, size, 0, image.pixels.data(), 0, nullptr) == 0) {
      return Internal(std::string("PNG encoder: ") + png.message);
    }
    std::string out(size, '\0');
    if (png_image_write_to_memory(&png, out.data(), &size, 0, image.pixels.data(), 0, nullptr) ==
        0) {
      return Internal(std::string("PNG encoder: ") + png.message);
    }
    out.resize(size);
    return out;
  } catch (const std::bad_alloc&) {
    return ResourceExhausted("PNG encoder: out of memory for a " + Dims(image.width, image.height) +
                             " image");
  }
}

Image ConvertChannels(const Image& image, int channels) {
  if (!ValidChannels(channels) || !CheckImage(image).ok()) return Image{};
  if (channels == image.channels) return image;
  Image out;
  out.width = image.width;
  out.height = image.height;
  out.channels = channels;
  const size_t n = static_cast<size_t>(image.width) * static_cast<size_t>(image.height);
  out.pixels.resize(n * static_cast<size_t>(channels));
  const auto in_c = static_cast<size_t>(image.channels);
  const auto out_c = static_cast<size_t>(channels);
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* p = &image.pixels[i * in_c];
    uint8_t* q = &out.pixels[i * out_c];
    uint8_t r = p[0];
    uint8_t g = p[0];
    uint8_t b = p[0];
    if (in_c >= 3) {
      g = p[1];
      b = p[2];
    }
    if (out_c == 1) {
      // BT.601 luma in 16-bit fixed point, rounded: the same integers as PIL's "L".
      q[0] = in_c == 1
                 ? p[0]
                 : static_cast<uint8_t>((19595U * r + 38470U * g + 7471U * b + 0x8000U) >> 16);
      continue;
    }
    q[0] = r;
    q[1] = g;
    q[2] = b;
    if (out_c == 4) q[3] = in_c == 4 ? p[3] : 255;
  }
  return out;
}

StatusOr<Image> Resize(const Image& image, int width, int height) {
  RETURN_IF_ERROR(CheckImage(image));
  if (width < 1 || height < 1 || int64_t{width} * height > kMaxImagePixels) {
    return InvalidArgument("resize: target size " + Dims(width, height) + " is outside 1x1 to " +
                           std::to_string(kMaxImagePixels) + " pixels");
  }
  if (width == image.width && height == image.height) return image;
  const auto c = static_cast<size_t>(image.channels);
  const auto in_w = static_cast<size_t>(image.width);
  const auto in_h = static_cast<size_t>(image.height);
  const auto out_w = static_cast<size_t>(width);
  const auto out_h = static_cast<size_t>(height);
  const std::vector<Taps> xt = ComputeTaps(image.width, width);
  const std::vector<Taps> yt = ComputeTaps(image.height, height);
  // Horizontal pass into floats (no rounding between passes), then vertical.
  std::vector<float> mid(in_h * out_w * c);
  for (size_t y = 0; y < in_h; ++y) {
    const uint8_t* row = &image.pixels[y * in_w * c];
    float* dst = &mid[y * out_w * c];
    for (size_t x = 0; x < out_w; ++x) {
      const Taps& t = xt[x];
      for (size_t k = 0; k < c; ++k) {
        float sum = 0;
        for (size_t i = 0; i < t.weights.size(); ++i) {
          sum += t.weights[i] * static_cast<float>(row[(static_cast<size_t>(t.first) + i) * c + k]);
        }
        dst[x * c + k] = sum;
      }
    }
  }
  Image out;
  out.width = width;
  out.height = height;
  out.channels = image.channels;
  out.pixels.resize(out_h * out_w * c);
  for (size_t y = 0; y < out_h; ++y) {
    const Taps& t = yt[y];
    uint8_t* dst = &out.pixels[y * out_w * c];
    for (size_t j = 0; j < out_w * c; ++j) {
      float sum = 0;
      for (size_t i = 0; i < t.weights.size(); ++i) {
        sum += t.weights[i] * mid[(static_cast<size_t>(t.first) + i) * out_w * c + j];
      }
      dst[j] = ToByte(sum);
    }
  }
  return out;
}

std::vector<float> ToPlanarFloat(const Image& image, float lo, float hi) {
  if (!CheckImage(image).ok()) return {};
  const auto c = static_cast<size_t>(image.channels);
  const size_t plane = static_cast<size_t>(image.width) * static_cast<size_t>(image.height);
  std::vector<float> out(plane * c);
  const double step = (static_cast<double>(hi) - lo) / 255.0;
  for (size_t i = 0; i < plane; ++i) {
    for (size_t k = 0; k < c; ++k) {
      out[k * plane + i] = static_cast<float>(lo + image.pixels[i * c + k] * step);
    }
  }
  return out;
}

Image FromPlanarFloat(const float* chw, int channels, int height, int width, float lo, float hi) {
  if (chw == nullptr || !ValidChannels(channels) || width < 1 || height < 1 ||
      int64_t{width} * height > kMaxImagePixels || !std::isfinite(lo) || !std::isfinite(hi) ||
      lo == hi) {
    return Image{};
  }
  Image out;
  out.width = width;
  out.height = height;
  out.channels = channels;
  const auto c = static_cast<size_t>(channels);
  const size_t plane = static_cast<size_t>(width) * static_cast<size_t>(height);
  out.pixels.resize(plane * c);
  const double scale = 255.0 / (static_cast<double>(hi) - lo);
  for (size_t k = 0; k < c; ++k) {
    for (size_t i = 0; i < plane; ++i) {
      out.pixels[i * c + k] = ToByte(static_cast<float>((chw[k * plane + i] - lo) * scale));
    }
  }
  return out;
}

}  // namespace sagebox::endpoint
