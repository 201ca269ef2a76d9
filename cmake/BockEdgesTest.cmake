cmake_minimum_required(VERSION 3.25)
# Unit test of the edge checker (cmake/BockEdges.cmake): the allowed edges
# pass, and each kind of wrong edge is caught. Run by ctest as
# `cmake -DBOCK_SOURCE_DIR=... -P cmake/BockEdgesTest.cmake`.
include(${BOCK_SOURCE_DIR}/cmake/BockEdges.cmake)

function(expect_clean what)
  if(ARGN)
    message(FATAL_ERROR "${what}: expected no violation, got: ${ARGN}")
  endif()
endfunction()
function(expect_caught what pattern)
  if(NOT ARGN)
    message(FATAL_ERROR "${what}: the checker let a wrong edge through")
  endif()
  if(NOT "${ARGN}" MATCHES "${pattern}")
    message(FATAL_ERROR "${what}: expected a violation matching `${pattern}`, got: ${ARGN}")
  endif()
endfunction()

set(v "")
bock_edges_verify(bock_engine "bock_runtime;bock_image;bock_layers;bock_userns;bock_common" v)
bock_edges_verify(bock-oci "bock_runtime;CLI11::CLI11" v)
bock_edges_verify(bock_runtime "bock_common;bock_userns;$<LINK_ONLY:bock::seccomp>;bock::cap" v)
bock_edges_verify(bock "bock_engine;CLI11::CLI11" v)
expect_clean("allowed edges" ${v})

set(v "")
bock_edges_verify(bock_runtime "bock_common;bock_image" v)
expect_caught("runtime -> image" "`bock_runtime` -> `bock_image` is not an allowed edge" ${v})

set(v "")
bock_edges_verify(bock "bock_engine;bock_image" v)
expect_caught("cli -> image" "`bock` -> `bock_image`" ${v})

set(v "")
bock_edges_verify(bock_image "bock_common;bock_engine" v)
expect_caught("image -> engine (a cycle)" "`bock_image` -> `bock_engine`" ${v})

set(v "")
bock_edges_verify(bock-oci "bock_runtime;CURL::libcurl" v)
expect_caught("bock-oci -> libcurl" "lean runtime links only" ${v})

set(v "")
bock_edges_verify(bock_mystery "bock_common" v)
expect_caught("unknown target" "not in the edge table" ${v})

# Include rules: a cli file including an image header is caught; engine
# headers are fine.
set(dir ${CMAKE_CURRENT_BINARY_DIR}/bock-edges-test/cli)
file(REMOVE_RECURSE ${dir})
file(WRITE ${dir}/cmd_ok.cpp "#include \"bock/engine/run.hpp\"\n#include \"bock/common/log.hpp\"\n")
set(v "")
bock_includes_verify(cli ${dir} v)
expect_clean("cli includes engine" ${v})
file(WRITE ${dir}/cmd_bad.cpp "#include <vector>\n#  include \"bock/image/store.hpp\"\n")
bock_includes_verify(cli ${dir} v)
expect_caught("cli includes image" "cmd_bad.cpp includes bock/image/" ${v})
file(REMOVE_RECURSE ${CMAKE_CURRENT_BINARY_DIR}/bock-edges-test)

# The tree as it is passes (the same check configuration runs).
set(v "")
bock_includes_verify_all("${BOCK_SOURCE_DIR}" v)
expect_clean("the source tree's includes" ${v})
message(STATUS "edge checker: all cases behave")
