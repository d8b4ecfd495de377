#include <gtest/gtest.h>

#include "pipeline/asl/context.h"
#include "pipeline/asl/errors.h"
#include "pipeline/asl/json_path.h"
#include "pipeline/asl/retry.h"

namespace sagebox::pipeline::asl {
namespace {

using nlohmann::json;

TEST(ErrorsTest, StatesAllAndTaskFailedMatching) {
  struct Case {
    const char* pattern;
    const char* error;
    bool want;
  };
  const Case cases[] = {
      {"States.ALL", "States.Timeout", true},
      {"States.ALL", "States.TaskFailed", true},
      {"States.ALL", "java.lang.Exception", true},
      {"States.ALL", "States.Runtime", false},
      {"States.ALL", "States.DataLimitExceeded", false},
      {"States.TaskFailed", "States.TaskFailed", true},
      {"States.TaskFailed", "States.Permissions", true},
      {"States.TaskFailed", "CustomError", true},
      {"States.TaskFailed", "States.Timeout", false},
      {"States.TaskFailed", "States.Runtime", false},
      {"States.Runtime", "States.Runtime", true},
      {"States.Timeout", "States.Timeout", true},
      {"States.Timeout", "States.HeartbeatTimeout", false},
      {"ErrorA", "ErrorA", true},
      {"ErrorA", "errora", false},  // case-sensitive
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ErrorNameMatches(c.pattern, c.error), c.want) << c.pattern << " vs " << c.error;
  }
  EXPECT_TRUE(ErrorEqualsMatches({"ErrorA", "ErrorB"}, "ErrorB"));
  EXPECT_FALSE(ErrorEqualsMatches({"ErrorA", "ErrorB"}, "ErrorC"));
}

TEST(ErrorsTest, PredefinedNames) {
  const auto& names = AllStatesErrorNames();
  EXPECT_EQ(names.size(), 18u);
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  for (std::string_view n : names) EXPECT_EQ(n.substr(0, 7), "States.");
  EXPECT_TRUE(IsPredefinedErrorName("States.IntrinsicFailure"));
  EXPECT_TRUE(IsPredefinedErrorName("States.NoChoiceMatched"));
  EXPECT_FALSE(IsPredefinedErrorName("States.Nope"));
  const Status st = RuntimeError("boom").ToStatus();
  EXPECT_EQ(st.message(), "States.Runtime: boom");
}

// "Retrying after an error": IntervalSeconds 3, MaxAttempts 4, BackoffRate 1.5 waits 3, 4.5,
// 6.75 and 10.125 seconds, then gives up.
TEST(RetryTest, AwsBackoffExample) {
  auto p = ParseRetryPolicy(json::parse(R"({"ErrorEquals": ["States.Timeout"],
      "IntervalSeconds": 3, "MaxAttempts": 4, "BackoffRate": 1.5})"),
                            "States.Task.Retry[0]");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  const double want[] = {3, 4.5, 6.75, 10.125};
  for (int n = 1; n <= 4; ++n) {
    EXPECT_FALSE(RetriesExhausted(*p, n - 1));
    EXPECT_DOUBLE_EQ(RetryDelaySeconds(*p, n), want[n - 1]) << n;
  }
  EXPECT_TRUE(RetriesExhausted(*p, 4));
}

TEST(RetryTest, DefaultsCapZeroAttemptsAndJitter) {
  auto d = ParseRetryPolicy(json::parse(R"({"ErrorEquals": ["States.ALL"]})"), "r");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->max_attempts, 3);
  EXPECT_DOUBLE_EQ(RetryDelaySeconds(*d, 1), 1);
  EXPECT_DOUBLE_EQ(RetryDelaySeconds(*d, 3), 4);
  EXPECT_TRUE(RetriesExhausted(*d, 3));

  auto never = ParseRetryPolicy(json::parse(R"({"ErrorEquals": ["X"], "MaxAttempts": 0})"), "r");
  ASSERT_TRUE(never.ok());
  EXPECT_TRUE(RetriesExhausted(*never, 0));

  auto capped = ParseRetryPolicy(
      json::parse(R"({"ErrorEquals": ["X"], "IntervalSeconds": 2, "MaxDelaySeconds": 5,
                      "JitterStrategy": "FULL", "MaxAttempts": 99})"),
      "r");
  ASSERT_TRUE(capped.ok());
  EXPECT_DOUBLE_EQ(RetryDelaySeconds(*capped, 10, [] { return 1.0; }), 5);  // 2*2^9 capped
  EXPECT_DOUBLE_EQ(RetryDelaySeconds(*capped, 2, [] { return 0.25; }), 1);  // 4 * 0.25
  EXPECT_DOUBLE_EQ(RetryDelaySeconds(*capped, 2, [] { return 0.0; }), 0);
  for (int i = 0; i < 50; ++i) {
    const double s = RetryDelaySeconds(*capped, 2);
    EXPECT_GE(s, 0);
    EXPECT_LE(s, 4);
  }
  // A huge attempt number overflows the power; the cap still holds.
  EXPECT_DOUBLE_EQ(RetryDelaySeconds(*capped, 100000, [] { return 1.0; }), 5);
}

TEST(RetryTest, BadRetrierFieldsAreNamed) {
  struct Case {
    const char* retrier;
    const char* fragment;
  };
  const Case cases[] = {
      {R"({"IntervalSeconds": 0})", "r: IntervalSeconds must be a number >= 1"},
      {R"({"BackoffRate": 0.5})", "r: BackoffRate must be a number >= 1"},
      {R"({"MaxAttempts": -1})", "r: MaxAttempts must be an integer >= 0"},
      {R"({"MaxAttempts": 1.5})", "r: MaxAttempts must be an integer >= 0"},
      {R"({"JitterStrategy": "HALF"})", "r: JitterStrategy must be \"FULL\" or \"NONE\""},
      {R"({"ErrorEquals": "X"})", "r: ErrorEquals must be an array"},
  };
  for (const Case& c : cases) {
    auto p = ParseRetryPolicy(json::parse(c.retrier), "r");
    ASSERT_FALSE(p.ok()) << c.retrier;
    EXPECT_NE(p.status().message().find(c.fragment), std::string::npos) << p.status().message();
  }
}

TEST(ContextTest, BuildsAwsShapeAndPathsReadIt) {
  ContextValues v;
  v.execution_id = "arn:aws:states:us-east-1:123456789012:execution:stateMachineName:exec";
  v.execution_input = json{{"key", "value"}};
  v.execution_name = "exec";
  v.role_arn = "arn:aws:iam::123456789012:role...";
  v.start_time = "2019-03-26T20:14:13.192Z";
  v.state_entered_time = "2019-03-26T20:14:13.192Z";
  v.state_name = "Test";
  v.state_retry_count = 3;
  v.state_machine_id = "arn:aws:states:us-east-1:123456789012:stateMachine:stateMachineName";
  v.state_machine_name = "stateMachineName";
  v.task_token = "h7XRiCdLtd/83p1E0dMccoxlzFhglsdkzpK9mBVKZsp7d9yrT1W";
  json ctx = BuildContextObject(v);
  EXPECT_EQ(ctx["Execution"]["RedriveCount"], 0);
  EXPECT_FALSE(ctx["Execution"].contains("RedriveTime"));
  EXPECT_FALSE(ctx.contains("Map"));
  EXPECT_EQ(ctx["Task"]["Token"], *v.task_token);
  EXPECT_EQ(ctx["State"], json::parse(R"({"EnteredTime": "2019-03-26T20:14:13.192Z",
                                          "Name": "Test", "RetryCount": 3})"));
  EXPECT_EQ(ctx["StateMachine"]["Name"], "stateMachineName");

  v.task_token.reset();
  v.redrive_count = 1;
  v.redrive_time = "2023-11-20T10:00:00.000Z";
  v.map_item_index = 2;
  v.map_item_value = json{{"who", "bob"}};
  ctx = BuildContextObject(v);
  EXPECT_FALSE(ctx.contains("Task"));
  EXPECT_EQ(ctx["Execution"]["RedriveTime"], "2023-11-20T10:00:00.000Z");
  auto p = ParseJsonPath("$$.Map.Item.Value.who");
  ASSERT_TRUE(p.ok());
  auto who = EvaluatePath(*p, json::object(), ctx);
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(*who, "bob");
  EXPECT_EQ(ctx["Map"]["Item"]["Index"], 2);
}

}  // namespace
}  // namespace sagebox::pipeline::asl
