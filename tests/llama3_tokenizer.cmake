# Where the LLaMA 3 tokenizer test data is by default: ../shared/data/llama3-tokenizer beside the
# repository. A clone made elsewhere (`git clone . /tmp/x`, as a clean-clone check does) has no
# such neighbour, so it looks beside the repository it was cloned from (a local origin) instead.
# -DBITNET_LLAMA3_TOKENIZER_DIR=DIR overrides both; the tests fail, naming the directory, when the
# files are in none of these places.
set(BITNET_LLAMA3_RELATIVE "shared/data/llama3-tokenizer")

function(bitnet_local_origin_dir out)
  set(${out} "" PARENT_SCOPE)
  find_package(Git QUIET)
  if(NOT GIT_FOUND)
    return()
  endif()
  execute_process(COMMAND "${GIT_EXECUTABLE}" -C "${PROJECT_SOURCE_DIR}" config --get remote.origin.url
                  OUTPUT_VARIABLE origin OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    return()
  endif()
  string(REGEX REPLACE "^file://" "" origin "${origin}")
  if(NOT IS_ABSOLUTE "${origin}")  # `git clone ../repo x` records the path as given
    get_filename_component(origin "${PROJECT_SOURCE_DIR}/${origin}" ABSOLUTE)
  endif()
  if(IS_DIRECTORY "${origin}")
    set(${out} "${origin}" PARENT_SCOPE)
  endif()
endfunction()

function(bitnet_default_llama3_tokenizer_dir out)
  get_filename_component(beside "${PROJECT_SOURCE_DIR}/../${BITNET_LLAMA3_RELATIVE}" ABSOLUTE)
  set(${out} "${beside}" PARENT_SCOPE)
  if(EXISTS "${beside}/tokenizer.json")
    return()
  endif()
  bitnet_local_origin_dir(origin)
  if(origin)
    get_filename_component(beside_origin "${origin}/../${BITNET_LLAMA3_RELATIVE}" ABSOLUTE)
    if(EXISTS "${beside_origin}/tokenizer.json")
      set(${out} "${beside_origin}" PARENT_SCOPE)
    endif()
  endif()
endfunction()
