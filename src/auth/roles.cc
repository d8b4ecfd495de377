#include "auth/roles.h"

namespace sagebox::auth {

bool Allows(Role role, Action action) {
  switch (role) {
    case Role::kAdmin:
      return true;
    case Role::kUser:
      return action == Action::kRead || action == Action::kWriteOwn;
    case Role::kViewer:
      return action == Action::kRead;
  }
  return false;  // an out-of-range enum value allows nothing
}

Action ActionForMethod(std::string_view method) {
  if (method == "GET" || method == "HEAD" || method == "OPTIONS") return Action::kRead;
  return Action::kWriteOwn;
}

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kAdmin:
      return "admin";
    case Role::kUser:
      return "user";
    case Role::kViewer:
      return "viewer";
  }
  return "viewer";
}

std::optional<Role> ParseRole(std::string_view name) {
  if (name == "admin") return Role::kAdmin;
  if (name == "user") return Role::kUser;
  if (name == "viewer") return Role::kViewer;
  return std::nullopt;
}

}  // namespace sagebox::auth
