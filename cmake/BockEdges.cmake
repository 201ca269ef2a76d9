# The allowed link edges between Bock's own targets, and the include rules
# that go with them (docs/ARCHITECTURE.md, "Allowed edges"). bock_check_edges()
# runs at the end of configuration and fails it on any other edge, so a
# wrong dependency never reaches a build. cmake/BockEdgesTest.cmake is its
# unit test (it feeds the checker deliberately bad edges).
#
# Each entry: TARGET:DEP,DEP,...  (the Bock targets TARGET may link directly).
set(BOCK_EDGES
    "bock_common:"
    "bock_userns:bock_common"
    "bock_image:bock_common"
    "bock_layers:bock_common"
    "bock_netns:bock_common"
    "bock_fuseov:bock_common"
    "bock-fuse-overlay:bock_fuseov,bock_common"
    "bock-netns:bock_netns,bock_common"
    "bock-netns-bpfgen:bock_common"
    "bock-dns:bock_common"
    "bock_runtime:bock_common,bock_userns"
    "bock-oci:bock_runtime,bock_userns,bock_common"
    "bock_monitor:bock_common"
    "bock-monitor:bock_monitor,bock_common"
    "bock-init:"
    "bock_engine:bock_runtime,bock_image,bock_layers,bock_userns,bock_common"
    "bock_builder:bock_engine"
    "bock_compose:bock_builder,bock_engine"
    "bock:bock_compose,bock_builder,bock_engine")

# The lean runtime: besides Bock's own targets above, only these libraries.
set(BOCK_EXTERNAL_ALLOWED
    "bock_runtime:bock::seccomp,bock::cap"
    "bock-oci:bock::seccomp,bock::cap,CLI11::CLI11")

# Which folders' headers a folder may include (its own always).
set(BOCK_INCLUDE_RULES
    "userns:common"
    "image:common"
    "fuse-layers:common,layers,fuseov"
    "netns-helper:common,netns"
    "runtime:common,userns,monitor"
    "engine:common,userns,runtime,monitor,image,layers,engine"
    "builder:common,engine,image"
    "compose:common,engine,builder,image"
    "cli:common,engine,builder,compose")

# Entry of `key` in a KEY:A,B list, as a CMake list; `found` tells if it exists.
function(_bock_table_lookup table key out found)
  set(${found} FALSE PARENT_SCOPE)
  set(${out} "" PARENT_SCOPE)
  foreach(entry IN LISTS ${table})
    string(FIND "${entry}" ":" colon)
    string(SUBSTRING "${entry}" 0 ${colon} k)
    if(k STREQUAL key)
      math(EXPR start "${colon} + 1")
      string(SUBSTRING "${entry}" ${start} -1 v)
      string(REPLACE "," ";" v "${v}")
      set(${out} "${v}" PARENT_SCOPE)
      set(${found} TRUE PARENT_SCOPE)
      return()
    endif()
  endforeach()
endfunction()

# The violations of target `name` linking `deps` (a list), appended to `out`.
# Bock's targets are named bock_* / bock-*; `bock::x` names an external
# library through an alias; everything else is external.
function(bock_edges_verify name deps out)
  set(bad "")
  _bock_table_lookup(BOCK_EDGES "${name}" allowed known)
  if(NOT known)
    list(APPEND bad "target `${name}` is not in the edge table (add it to cmake/BockEdges.cmake and docs/ARCHITECTURE.md)")
  endif()
  _bock_table_lookup(BOCK_EXTERNAL_ALLOWED "${name}" externals lean)
  foreach(dep IN LISTS deps)
    string(REGEX REPLACE "^\\$<LINK_ONLY:(.*)>$" "\\1" dep "${dep}")
    if(dep MATCHES "^bock[_-]" AND NOT dep MATCHES "^bock::")
      if(known AND NOT dep IN_LIST allowed)
        list(APPEND bad "`${name}` -> `${dep}` is not an allowed edge (allowed: ${allowed})")
      endif()
    elseif(lean AND NOT dep IN_LIST externals)
      list(APPEND bad "`${name}` -> `${dep}`: the lean runtime links only ${externals}")
    endif()
  endforeach()
  set(${out} ${${out}} ${bad} PARENT_SCOPE)
endfunction()

# The include violations in the sources of folder `folder` (a key of
# BOCK_INCLUDE_RULES) found under `dir`, appended to `out`.
function(bock_includes_verify folder dir out)
  set(bad "")
  _bock_table_lookup(BOCK_INCLUDE_RULES "${folder}" allowed known)
  if(known)
    file(GLOB_RECURSE files "${dir}/*.cpp" "${dir}/*.hpp" "${dir}/*.h")
    foreach(f IN LISTS files)
      if(f MATCHES "_test\\.cpp$")
        continue()
      endif()
      file(STRINGS "${f}" lines REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"]bock/")
      foreach(line IN LISTS lines)
        string(REGEX REPLACE ".*[<\"]bock/([^/]+)/.*" "\\1" inc "${line}")
        if(NOT inc IN_LIST allowed AND NOT inc STREQUAL folder)
          file(RELATIVE_PATH rel "${dir}/.." "${f}")
          list(APPEND bad "${rel} includes bock/${inc}/ (${folder}/ may include: ${allowed})")
        endif()
      endforeach()
    endforeach()
  endif()
  set(${out} ${${out}} ${bad} PARENT_SCOPE)
endfunction()

# The include violations of every folder with a rule under `source_dir`.
function(bock_includes_verify_all source_dir out)
  set(bad "")
  foreach(rule IN LISTS BOCK_INCLUDE_RULES)
    string(REGEX REPLACE ":.*" "" folder "${rule}")
    if(EXISTS "${source_dir}/${folder}")
      bock_includes_verify(${folder} "${source_dir}/${folder}" bad)
    endif()
  endforeach()
  set(${out} ${${out}} ${bad} PARENT_SCOPE)
endfunction()

function(_bock_collect_targets dir out)
  get_property(ts DIRECTORY "${dir}" PROPERTY BUILDSYSTEM_TARGETS)
  get_property(subs DIRECTORY "${dir}" PROPERTY SUBDIRECTORIES)
  foreach(s IN LISTS subs)
    if(NOT s MATCHES "/tests(/|$)")
      _bock_collect_targets("${s}" more)
      list(APPEND ts ${more})
    endif()
  endforeach()
  set(${out} ${ts} PARENT_SCOPE)
endfunction()

# Checks every Bock target of the project (tests and unit-test binaries
# excepted) and the include rules of every folder; FATAL_ERROR on any
# violation.
function(bock_check_edges)
  _bock_collect_targets("${CMAKE_SOURCE_DIR}" targets)
  set(bad "")
  foreach(t IN LISTS targets)
    if(t MATCHES "_unit_tests$" OR t MATCHES "^bock_static_" OR NOT t MATCHES "^bock")
      continue()
    endif()
    get_target_property(deps ${t} LINK_LIBRARIES)
    if(NOT deps)
      set(deps "")
    endif()
    bock_edges_verify(${t} "${deps}" bad)
  endforeach()
  bock_includes_verify_all("${CMAKE_SOURCE_DIR}" bad)
  if(bad)
    list(JOIN bad "\n  " text)
    message(FATAL_ERROR "dependency rules broken (docs/ARCHITECTURE.md, \"Allowed edges\"):\n  ${text}")
  endif()
endfunction()
