#include "http/http_status.h"

#include <gtest/gtest.h>

namespace sagebox::http {

TEST(HttpStatus, ClientErrorsAre4xxOursAre5xx) {
  EXPECT_EQ(HttpStatusOf(StatusCode::kOk), 200);
  EXPECT_EQ(HttpStatusOf(StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusOf(StatusCode::kBadInput), 400);
  EXPECT_EQ(HttpStatusOf(StatusCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusOf(StatusCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusOf(StatusCode::kResourceExhausted), 413);
  EXPECT_EQ(HttpStatusOf(StatusCode::kUnimplemented), 501);
  EXPECT_EQ(HttpStatusOf(StatusCode::kCorruption), 500);
  EXPECT_EQ(HttpStatusOf(StatusCode::kIoError), 500);
}

}  // namespace sagebox::http
