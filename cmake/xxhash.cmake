# xxHash (Debian's libxxhash-dev), found once for every folder as the imported target
# bitnet::xxhash: tokenizer fingerprints (data/) and config hashes (trainer/) use it.
find_path(BITNET_XXHASH_INCLUDE_DIR xxhash.h REQUIRED)
find_library(BITNET_XXHASH_LIBRARY xxhash REQUIRED)
add_library(bitnet::xxhash UNKNOWN IMPORTED)
set_target_properties(bitnet::xxhash PROPERTIES IMPORTED_LOCATION "${BITNET_XXHASH_LIBRARY}"
                      INTERFACE_INCLUDE_DIRECTORIES "${BITNET_XXHASH_INCLUDE_DIR}")
