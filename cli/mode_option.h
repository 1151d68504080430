// A command-line option that takes one of a mode's names (formats/enum_names.h) and stores the
// enum: the names come from the mode's table, so the option, its help and its check never list
// them again.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "formats/enum_names.h"

namespace bitnet::cli {

// Adds `flag` to `cmd`: "--format text" stores the named value into *value (which keeps its
// initial value when the flag is absent). `allowed` narrows the mode to the values this command
// supports (default: all); the help is "`what`: name | name (default name)".
template <typename E>
CLI::Option* add_mode_option(CLI::App* cmd, const std::string& flag, E* value, const std::string& what,
                             const std::vector<E>& allowed = {}) {
  std::vector<std::string> names;
  for (const EnumName<E>& entry : EnumNames<E>::table) {
    bool take = allowed.empty();
    for (E a : allowed) take = take || a == entry.value;
    if (take) names.emplace_back(entry.name);
  }
  std::string list;
  for (const std::string& name : names) list += (list.empty() ? "" : " | ") + name;
  const std::string help = what + ": " + list + " (default " + enum_name(*value) + ")";
  return cmd
      ->add_option_function<std::string>(
          flag, [value](const std::string& name) { *value = *parse_enum<E>(name); }, help)
      ->check(CLI::IsMember(names));
}

}  // namespace bitnet::cli
