// The output directory of a prepare: what a previous prepare left there decides whether this one
// starts afresh, resumes, has nothing to do, or refuses (never mixing the shards of two corpora).
#pragma once

#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

#include "data/prepare/prepare_state.h"

namespace bitnet::data {

// "shard-00000.bts", "shard-00001.bts", ...
std::string shard_file_name(size_t index);

struct OutputStart {
  bool complete = false;  // dataset.json of the same prepare is there: nothing to do
  PrepareState state;     // what is done (nothing when starting afresh)
};

// Creates `dir` if needed and decides how to start there:
//  - restart: first removes every file a prepare writes (shard-*.bts, the progress file,
//    dataset.json, and their temporaries);
//  - dataset.json present: complete when it records this identity, else DataError listing the
//    differences;
//  - a progress file: resume when it records this identity (its shards checked: present, with
//    their recorded sizes), else DataError listing the differences and how to start over;
//  - neither, but *.bts files: DataError (they would be read with the new shards).
// Leftovers of an interrupted run (temporary files, a shard written after the last progress
// record) are removed.
OutputStart start_output(const std::string& dir, const nlohmann::json& identity, bool restart);

}  // namespace bitnet::data
