#include "endpoint/image.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "core/env.h"
#include "core/testing/temp_dir.h"

namespace sagebox::endpoint {
namespace {

using ::testing::HasSubstr;

// Pictures made by PIL (Debian's python3-pil), the library the article's clients
// encode with, so the decoder is tested against a real third-party encoder. Each
// .raw file holds the pixels PIL meant, to compare against.
constexpr const char* kMakeImages = R"PY(
import sys, random
from PIL import Image
out = sys.argv[1]

def raw(name, im):
    open(out + '/' + name + '.raw', 'wb').write(im.tobytes())

# A smooth RGB picture: JPEG keeps it well, so a tolerance can be tight.
photo = Image.new('RGB', (64, 48))
photo.putdata([(x * 4, y * 5, (x + y) * 2) for y in range(48) for x in range(64)])
photo.save(out + '/photo.jpg', quality=95)
photo.save(out + '/progressive.jpg', quality=95, progressive=True)
raw('photo', photo)
photo.convert('L').save(out + '/gray.jpg', quality=95)
raw('gray', photo.convert('L'))
photo.convert('CMYK').save(out + '/cmyk.jpg')

# Palette PNGs, without and with transparency.
pal = Image.new('P', (5, 3))
pal.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30])
pal.putdata([(x + y) % 5 for y in range(3) for x in range(5)])
pal.save(out + '/palette.png')
raw('palette', pal.convert('RGB'))
pal.info['transparency'] = 1
pal.save(out + '/palette_trns.png', transparency=1)
raw('palette_trns', pal.convert('RGBA'))

# 16-bit gray: samples that are multiples of 257 become exactly k in 8 bits.
g16 = Image.new('I;16', (4, 2))
g16.putdata([257 * v for v in [0, 1, 100, 255, 7, 128, 200, 254]])
g16.save(out + '/gray16.png')

# Gray + alpha.
la = Image.new('LA', (2, 2))
la.putdata([(10, 255), (20, 128), (30, 0), (40, 7)])
la.save(out + '/la.png')

# Resize references: PIL's BILINEAR up and down on random pixels.
random.seed(7)
src = Image.new('RGB', (37, 29))
src.putdata([tuple(random.randrange(256) for _ in range(3)) for _ in range(37 * 29)])
raw('resize_src', src)
raw('resize_up', src.resize((80, 61), Image.BILINEAR))
raw('resize_down', src.resize((9, 7), Image.BILINEAR))
)PY";

class ImageTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<testing::TempDir>("image");
    const std::string script = dir_->Path("make_images.py");
    ASSERT_TRUE(Env::Default()->WriteFileAtomic(script, kMakeImages).ok());
    const std::string cmd = "/usr/bin/python3 " + script + " " + dir_->path();
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd << " failed (needs python3-pil)";
  }
  static void TearDownTestSuite() { dir_.reset(); }

  static std::string Read(const std::string& name) {
    std::string data;
    const Status s = Env::Default()->ReadFileToString(dir_->Path(name), &data);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return data;
  }

  static std::vector<uint8_t> Raw(const std::string& name) {
    const std::string data = Read(name + ".raw");
    return {data.begin(), data.end()};
  }

  static std::unique_ptr<testing::TempDir> dir_;
};

std::unique_ptr<testing::TempDir> ImageTest::dir_;

Image Noise(int width, int height, int channels, uint32_t seed) {
  Image image{width, height, channels, {}};
  std::mt19937 rng(seed);
  image.pixels.resize(static_cast<size_t>(width * height * channels));
  for (uint8_t& p : image.pixels) p = static_cast<uint8_t>(rng() & 0xFF);
  return image;
}

Image Decoded(std::string_view bytes) {
  auto image = DecodeImage(bytes);
  EXPECT_TRUE(image.ok()) << image.status().ToString();
  return image.ok() ? *image : Image{};
}

void ExpectBadInput(std::string_view bytes, const std::string& what,
                    const std::string& message_part = "") {
  auto image = DecodeImage(bytes);
  ASSERT_FALSE(image.ok()) << what << " decoded as " << image->width << "x" << image->height;
  EXPECT_EQ(image.status().code(), StatusCode::kBadInput)
      << what << ": " << image.status().ToString();
  EXPECT_THAT(image.status().message(), HasSubstr(message_part)) << what;
}

// The largest absolute difference between two equally long pixel buffers.
int MaxDiff(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  EXPECT_EQ(a.size(), b.size());
  int worst = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    worst = std::max(worst, std::abs(int{a[i]} - int{b[i]}));
  }
  return worst;
}

double MeanDiff(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  double total = 0;
  for (size_t i = 0; i < a.size(); ++i) total += std::abs(int{a[i]} - int{b[i]});
  return a.empty() ? 0 : total / static_cast<double>(a.size());
}

// ----------------------------------------------------------------------------- PNG

TEST_F(ImageTest, PngRoundTripKeepsEveryPixel) {
  for (const int channels : {1, 3, 4}) {
    const Image original = Noise(13, 7, channels, 42U + static_cast<uint32_t>(channels));
    auto png = EncodePng(original);
    ASSERT_TRUE(png.ok()) << png.status().ToString();
    EXPECT_EQ(png->substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
    const Image back = Decoded(*png);
    EXPECT_EQ(back.width, 13);
    EXPECT_EQ(back.height, 7);
    EXPECT_EQ(back.channels, channels);
    EXPECT_EQ(back.pixels, original.pixels) << channels << " channels";
  }
}

TEST_F(ImageTest, PaletteBecomesRgbOrRgbaWithTransparency) {
  const Image rgb = Decoded(Read("palette.png"));
  EXPECT_EQ(rgb.width, 5);
  EXPECT_EQ(rgb.height, 3);
  EXPECT_EQ(rgb.channels, 3);
  EXPECT_EQ(rgb.pixels, Raw("palette"));
  // Index 1 (red) is transparent: it gets alpha 0, the rest 255.
  const Image rgba = Decoded(Read("palette_trns.png"));
  EXPECT_EQ(rgba.channels, 4);
  EXPECT_EQ(rgba.pixels, Raw("palette_trns"));
  EXPECT_EQ(rgba.pixels[4 * 1 + 3], 0);    // pixel (1, 0) has index 1
  EXPECT_EQ(rgba.pixels[4 * 0 + 3], 255);  // pixel (0, 0) has index 0
}

TEST_F(ImageTest, SixteenBitGrayScalesToEightBitsWithoutGamma) {
  const Image g = Decoded(Read("gray16.png"));
  EXPECT_EQ(g.width, 4);
  EXPECT_EQ(g.height, 2);
  EXPECT_EQ(g.channels, 1);
  EXPECT_EQ(g.pixels, (std::vector<uint8_t>{0, 1, 100, 255, 7, 128, 200, 254}));
}

TEST_F(ImageTest, GrayAlphaWidensToRgba) {
  const Image g = Decoded(Read("la.png"));
  EXPECT_EQ(g.channels, 4);
  EXPECT_EQ(g.pixels,
            (std::vector<uint8_t>{10, 10, 10, 255, 20, 20, 20, 128, 30, 30, 30, 0, 40, 40, 40, 7}));
}

TEST_F(ImageTest, EncodePngRefusesInconsistentImages) {
  Image bad = Noise(4, 4, 3, 1);
  bad.pixels.pop_back();
  EXPECT_EQ(EncodePng(bad).status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(EncodePng(bad).status().message(), HasSubstr("needs 48 bytes"));
  Image two = Noise(4, 4, 2, 1);
  EXPECT_EQ(EncodePng(two).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(EncodePng(Image{}).status().code(), StatusCode::kInvalidArgument);
  Image huge{5000, 5000, 1, {}};  // over the limit: refused before looking at pixels
  EXPECT_EQ(EncodePng(huge).status().code(), StatusCode::kInvalidArgument);
}

// ----------------------------------------------------------------------------- JPEG

TEST_F(ImageTest, JpegDecodesNearTheOriginal) {
  for (const char* name : {"photo.jpg", "progressive.jpg"}) {
    const Image j = Decoded(Read(name));
    EXPECT_EQ(j.width, 64) << name;
    EXPECT_EQ(j.height, 48) << name;
    EXPECT_EQ(j.channels, 3) << name;
    // Quality 95 on a smooth gradient: chroma subsampling costs a few levels at
    // most; a wrong channel order or a shifted row would cost tens.
    EXPECT_LE(MaxDiff(j.pixels, Raw("photo")), 12) << name;
    EXPECT_LE(MeanDiff(j.pixels, Raw("photo")), 2.0) << name;
  }
  const Image g = Decoded(Read("gray.jpg"));
  EXPECT_EQ(g.channels, 1);
  EXPECT_LE(MaxDiff(g.pixels, Raw("gray")), 6);
}

TEST_F(ImageTest, CmykJpegIsRefused) { ExpectBadInput(Read("cmyk.jpg"), "cmyk", "CMYK"); }

TEST_F(ImageTest, JpegClaimingHugeSizeIsRefusedBeforeDecoding) {
  std::string jpeg = Read("photo.jpg");
  // SOF0: FF C0, length (2), precision (1), height (2), width (2).
  const size_t sof = jpeg.find("\xFF\xC0");
  ASSERT_NE(sof, std::string::npos);
  const char big[] = {0x4E, 0x20};  // 20000
  jpeg.replace(sof + 5, 2, big, 2);
  jpeg.replace(sof + 7, 2, big, 2);
  ExpectBadInput(jpeg, "20000x20000 JPEG", "20000x20000 pixels, more than the limit");
}

// ----------------------------------------------------------------------------- bad input

TEST_F(ImageTest, PngClaimingHugeSizeIsRefused) {
  std::string png = *EncodePng(Noise(2, 2, 3, 5));
  // IHDR data starts at 16: width, height as big-endian uint32. The CRC is now
  // wrong too; either way it must be BadInput, and with a correct CRC it is the
  // size check that answers.
  const char size[] = {0x00, 0x01, static_cast<char>(0x86), static_cast<char>(0xA0)};  // 100000
  png.replace(16, 4, size, 4);
  png.replace(20, 4, size, 4);
  // Recompute IHDR's CRC (over "IHDR" + 13 bytes) so libpng accepts the header.
  uint32_t crc = 0xFFFFFFFFU;
  for (size_t i = 12; i < 12 + 4 + 13; ++i) {
    crc ^= static_cast<uint8_t>(png[i]);
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320U & (0U - (crc & 1U)));
  }
  crc ^= 0xFFFFFFFFU;
  for (int k = 0; k < 4; ++k) png[29 + k] = static_cast<char>((crc >> (24 - 8 * k)) & 0xFF);
  ExpectBadInput(png, "100000x100000 PNG", "100000x100000 pixels, more than the limit");
}

TEST_F(ImageTest, TruncatedFilesAreBadInput) {
  const std::string png = *EncodePng(Noise(64, 64, 3, 9));
  // Every cut that loses image data (the last 12 bytes are the empty IEND chunk).
  for (size_t cut = 1; cut + 12 < png.size(); cut += 97) {
    ExpectBadInput(png.substr(0, cut), "PNG cut at " + std::to_string(cut));
  }
  ExpectBadInput(png.substr(0, png.size() - 13), "PNG without its last IDAT byte");
  const std::string jpeg = Read("photo.jpg");
  for (const size_t cut : {size_t{3}, size_t{20}, size_t{200}, jpeg.size() / 2, jpeg.size() - 10}) {
    ExpectBadInput(jpeg.substr(0, cut), "JPEG cut at " + std::to_string(cut));
  }
}

TEST_F(ImageTest, EmptyAndForeignBytesAreBadInput) {
  ExpectBadInput("", "empty", "empty");
  ExpectBadInput("GIF89a\x01\x00\x01\x00", "GIF", "neither PNG nor JPEG");
  ExpectBadInput(std::string("\x89PNG\r\n\x1a\n", 8), "bare PNG signature", "PNG");
  ExpectBadInput("\xFF\xD8\xFF", "bare JPEG signature", "JPEG");
}

TEST_F(ImageTest, RandomBytesAreBadInput) {
  std::mt19937 rng(1234);
  const std::string png_sig("\x89PNG\r\n\x1a\n", 8);
  const std::string png_ok = *EncodePng(Noise(16, 16, 4, 3));
  const std::string jpeg_ok = Read("photo.jpg");
  for (int round = 0; round < 200; ++round) {
    std::string noise(1 + rng() % 2000, '\0');
    for (char& c : noise) c = static_cast<char>(rng() & 0xFF);
    ExpectBadInput(noise, "random bytes");
    // Behind a valid signature, so the decoders themselves see the garbage.
    ExpectBadInput(png_sig + noise, "PNG signature + random bytes");
    ExpectBadInput("\xFF\xD8\xFF" + noise, "JPEG signature + random bytes");
    // A valid header and random image data.
    ExpectBadInput(png_ok.substr(0, 41) + noise, "PNG header + random bytes");
    ExpectBadInput(jpeg_ok.substr(0, jpeg_ok.size() / 3) + noise, "JPEG header + random bytes");
  }
}

// ----------------------------------------------------------------------------- resize

TEST(ImageResizeTest, UpscaleTwoByTwoIsBilinear) {
  const Image in{2, 2, 1, {0, 100, 200, 40}};
  auto out = Resize(in, 4, 4);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  // Output centres map to source x = -0.25, 0.25, 0.75, 1.25: weights (1, 0)
  // (clamped), (.75, .25), (.25, .75), (0, 1); same for y. E.g. row 1, column 1:
  // .75 * (.75 * 0 + .25 * 100) + .25 * (.75 * 200 + .25 * 40) = 18.75 + 40 = 58.75.
  EXPECT_EQ(out->pixels, (std::vector<uint8_t>{0, 25, 75, 100,    //
                                               50, 59, 76, 85,    //
                                               150, 126, 79, 55,  //
                                               200, 160, 80, 40}));
}

TEST(ImageResizeTest, IdentityIsExact) {
  const Image in = Noise(17, 11, 3, 77);
  auto out = Resize(in, 17, 11);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->pixels, in.pixels);
}

TEST(ImageResizeTest, DownAndUpKeepSizesAndFlatColour) {
  Image in{512, 512, 3, {}};
  in.pixels.resize(512 * 512 * 3);
  for (size_t i = 0; i < in.pixels.size(); ++i) in.pixels[i] = static_cast<uint8_t>(60 * (i % 3));
  auto small = Resize(in, 128, 128);
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(small->width, 128);
  EXPECT_EQ(small->height, 128);
  EXPECT_EQ(small->pixels.size(), 128U * 128U * 3U);
  auto big = Resize(*small, 512, 512);
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->width, 512);
  EXPECT_EQ(big->height, 512);
  // Weights sum to one, so a flat picture stays flat through both.
  EXPECT_EQ(big->pixels, in.pixels);
}

TEST(ImageResizeTest, DownscaleAveragesInsteadOfAliasing) {
  // A one-pixel checkerboard: sampling would give all-black or all-white; the
  // widened filter gives mid-gray.
  Image in{64, 64, 1, {}};
  for (int y = 0; y < 64; ++y) {
    for (int x = 0; x < 64; ++x) in.pixels.push_back((x + y) % 2 == 0 ? 0 : 255);
  }
  auto out = Resize(in, 16, 16);
  ASSERT_TRUE(out.ok());
  for (const uint8_t p : out->pixels) EXPECT_NEAR(p, 127.5, 8);
}

TEST_F(ImageTest, ResizeMatchesPilBilinear) {
  const Image src{37, 29, 3, Raw("resize_src")};
  auto up = Resize(src, 80, 61);
  ASSERT_TRUE(up.ok());
  // PIL rounds to 8 bits between its two passes; we do not, hence 1 level.
  EXPECT_LE(MaxDiff(up->pixels, Raw("resize_up")), 1);
  auto down = Resize(src, 9, 7);
  ASSERT_TRUE(down.ok());
  EXPECT_LE(MaxDiff(down->pixels, Raw("resize_down")), 1);
}

TEST(ImageResizeTest, RefusesBadSizes) {
  const Image in = Noise(4, 4, 3, 1);
  EXPECT_EQ(Resize(in, 0, 4).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Resize(in, 4, -1).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Resize(in, 4097, 4096).status().code(), StatusCode::kInvalidArgument);
  Image bad = in;
  bad.pixels.resize(5);
  EXPECT_EQ(Resize(bad, 8, 8).status().code(), StatusCode::kInvalidArgument);
}

// ----------------------------------------------------------------------------- channels

TEST(ImageChannelsTest, Conversions) {
  const Image gray{2, 1, 1, {0, 200}};
  EXPECT_EQ(ConvertChannels(gray, 3).pixels, (std::vector<uint8_t>{0, 0, 0, 200, 200, 200}));
  EXPECT_EQ(ConvertChannels(gray, 4).pixels,
            (std::vector<uint8_t>{0, 0, 0, 255, 200, 200, 200, 255}));
  EXPECT_EQ(ConvertChannels(gray, 1).pixels, gray.pixels);

  // BT.601: 0.299 R + 0.587 G + 0.114 B, rounded.
  const Image rgb{4, 1, 3, {255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30}};
  const Image luma = ConvertChannels(rgb, 1);
  EXPECT_EQ(luma.channels, 1);
  EXPECT_EQ(luma.pixels, (std::vector<uint8_t>{76, 150, 29, 18}));  // 18.15 for (10,20,30)
  const Image rgba = ConvertChannels(rgb, 4);
  EXPECT_EQ(rgba.channels, 4);
  EXPECT_EQ(rgba.pixels, (std::vector<uint8_t>{255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 10,
                                               20, 30, 255}));

  const Image with_alpha{1, 1, 4, {10, 20, 30, 0}};
  EXPECT_EQ(ConvertChannels(with_alpha, 3).pixels, (std::vector<uint8_t>{10, 20, 30}));
  EXPECT_EQ(ConvertChannels(with_alpha, 1).pixels, (std::vector<uint8_t>{18}));
  const Image white{1, 1, 3, {255, 255, 255}};
  EXPECT_EQ(ConvertChannels(white, 1).pixels, (std::vector<uint8_t>{255}));
}

TEST(ImageChannelsTest, InvalidRequestsGiveAnEmptyImage) {
  const Image rgb{1, 1, 3, {1, 2, 3}};
  EXPECT_EQ(ConvertChannels(rgb, 2).width, 0);
  EXPECT_TRUE(ConvertChannels(rgb, 0).pixels.empty());
  const Image short_buffer{2, 2, 3, {1, 2, 3}};
  EXPECT_EQ(ConvertChannels(short_buffer, 1).width, 0);
}

// ----------------------------------------------------------------------------- planar floats

TEST(ImagePlanarTest, ToPlanarFloatIsChwAndMapsTheRange) {
  // 2x1 RGB: pixel 0 = (0, 255, 51), pixel 1 = (255, 0, 102).
  const Image rgb{2, 1, 3, {0, 255, 51, 255, 0, 102}};
  const std::vector<float> unit = ToPlanarFloat(rgb, 0.0F, 1.0F);
  // Plane R, then G, then B.
  EXPECT_THAT(
      unit, ::testing::Pointwise(::testing::FloatEq(), std::vector<float>{0, 1, 1, 0, 0.2F, 0.4F}));
  const std::vector<float> signed_range = ToPlanarFloat(rgb, -1.0F, 1.0F);
  EXPECT_THAT(signed_range, ::testing::Pointwise(::testing::FloatEq(),
                                                 std::vector<float>{-1, 1, 1, -1, -0.6F, -0.2F}));
  EXPECT_TRUE(ToPlanarFloat(Image{2, 2, 3, {1, 2}}, 0, 1).empty());
}

TEST(ImagePlanarTest, FromPlanarFloatClampsAndRounds) {
  // One gray plane of 2x3 in [-1, 1]: below, at and above the range, a NaN, and
  // two values that round to neighbouring bytes.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> chw = {-3.0F, -1.0F, 1.0F, 7.0F, nan, 0.0F};
  const Image g = FromPlanarFloat(chw.data(), 1, 2, 3, -1.0F, 1.0F);
  EXPECT_EQ(g.width, 3);
  EXPECT_EQ(g.height, 2);
  EXPECT_EQ(g.channels, 1);
  // 0.0 maps to 127.5, which rounds up to 128.
  EXPECT_EQ(g.pixels, (std::vector<uint8_t>{0, 0, 255, 255, 0, 128}));
  // Planar in, interleaved out.
  const std::vector<float> rgb = {0.0F, 1.0F, 0.5F, 0.25F, 1.0F, 0.0F};  // R, G, B planes of 2x1
  const Image c = FromPlanarFloat(rgb.data(), 3, 1, 2, 0.0F, 1.0F);
  EXPECT_EQ(c.pixels, (std::vector<uint8_t>{0, 128, 255, 255, 64, 0}));
}

TEST(ImagePlanarTest, RoundTripIsExact) {
  for (const int channels : {1, 3, 4}) {
    const Image original = Noise(9, 5, channels, 11U + static_cast<uint32_t>(channels));
    for (const auto& [lo, hi] :
         {std::pair{-1.0F, 1.0F}, std::pair{0.0F, 1.0F}, std::pair{0.0F, 255.0F}}) {
      const std::vector<float> chw = ToPlanarFloat(original, lo, hi);
      ASSERT_EQ(chw.size(), original.pixels.size());
      const Image back = FromPlanarFloat(chw.data(), channels, 5, 9, lo, hi);
      EXPECT_EQ(back.pixels, original.pixels)
          << channels << " channels, [" << lo << ", " << hi << "]";
    }
  }
}

TEST(ImagePlanarTest, FromPlanarFloatRefusesBadArguments) {
  const std::vector<float> chw(12, 0.5F);
  EXPECT_EQ(FromPlanarFloat(nullptr, 3, 2, 2, 0, 1).width, 0);
  EXPECT_EQ(FromPlanarFloat(chw.data(), 2, 2, 3, 0, 1).width, 0);
  EXPECT_EQ(FromPlanarFloat(chw.data(), 3, 0, 2, 0, 1).width, 0);
  EXPECT_EQ(FromPlanarFloat(chw.data(), 1, 5000, 5000, 0, 1).width, 0);
  EXPECT_EQ(FromPlanarFloat(chw.data(), 3, 2, 2, 1, 1).width, 0);
  EXPECT_EQ(FromPlanarFloat(chw.data(), 3, 2, 2, 0, std::numeric_limits<float>::infinity()).width,
            0);
  EXPECT_EQ(FromPlanarFloat(chw.data(), 3, 2, 2, 0, 1).width, 2);
}

}  // namespace
}  // namespace sagebox::endpoint
