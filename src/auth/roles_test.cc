#include "auth/roles.h"

#include <gtest/gtest.h>

namespace sagebox::auth {
namespace {

TEST(RolesTest, AllowsMatrix) {
  struct Row {
    Role role;
    bool read, write_own, write_any, manage_users;
  };
  for (const Row& r :
       {Row{Role::kViewer, true, false, false, false}, Row{Role::kUser, true, true, false, false},
        Row{Role::kAdmin, true, true, true, true}}) {
    SCOPED_TRACE(std::string(RoleName(r.role)));
    EXPECT_EQ(Allows(r.role, Action::kRead), r.read);
    EXPECT_EQ(Allows(r.role, Action::kWriteOwn), r.write_own);
    EXPECT_EQ(Allows(r.role, Action::kWriteAny), r.write_any);
    EXPECT_EQ(Allows(r.role, Action::kManageUsers), r.manage_users);
  }
}

TEST(RolesTest, MethodsMapToReadOrWrite) {
  EXPECT_EQ(ActionForMethod("GET"), Action::kRead);
  EXPECT_EQ(ActionForMethod("HEAD"), Action::kRead);
  EXPECT_EQ(ActionForMethod("OPTIONS"), Action::kRead);
  EXPECT_EQ(ActionForMethod("POST"), Action::kWriteOwn);
  EXPECT_EQ(ActionForMethod("DELETE"), Action::kWriteOwn);
  // Methods are case-sensitive: "get" is not GET, and anything unknown counts as a write.
  EXPECT_EQ(ActionForMethod("get"), Action::kWriteOwn);
  EXPECT_FALSE(Allows(Role::kViewer, ActionForMethod("PUT")));
}

TEST(RolesTest, NamesRoundTrip) {
  for (Role r : {Role::kViewer, Role::kUser, Role::kAdmin}) {
    EXPECT_EQ(ParseRole(RoleName(r)), r);
  }
  EXPECT_EQ(ParseRole("Admin"), std::nullopt);
  EXPECT_EQ(ParseRole("root"), std::nullopt);
  EXPECT_EQ(ParseRole(""), std::nullopt);
}

}  // namespace
}  // namespace sagebox::auth
