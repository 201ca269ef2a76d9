# bock_library(NAME DIR DEPS...): a static library from DIR/src/*.cpp (except
# *_test.cpp) with DIR/include as its public headers, and, when DIR/src has
# *_test.cpp files, a unit-test binary NAME_unit_tests labelled "unit"
# (UNIT_NEEDS_SETUP: it waits for the `setup` fixture; UNIT_TIMEOUT: seconds).
function(bock_library name)
  cmake_parse_arguments(L "UNIT_NEEDS_SETUP" "UNIT_TIMEOUT" "PUBLIC;PRIVATE" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/src/*.cpp)
  file(GLOB tests CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/src/*_test.cpp)
  if(tests)
    list(REMOVE_ITEM srcs ${tests})
  endif()
  if(NOT srcs)  # a folder whose code has not landed yet still links
    file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/${name}_empty.cpp "")
    set(srcs ${CMAKE_CURRENT_BINARY_DIR}/${name}_empty.cpp)
  endif()
  add_library(${name} STATIC ${srcs})
  target_include_directories(${name} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include
                                     PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
  target_link_libraries(${name} PUBLIC ${L_PUBLIC} PRIVATE ${L_PRIVATE})
  if(BUILD_TESTING AND tests)
    add_executable(${name}_unit_tests ${tests})
    target_include_directories(${name}_unit_tests PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src
                                                          ${CMAKE_SOURCE_DIR}/tests/harness)  # bock_skip.hpp
    target_link_libraries(${name}_unit_tests PRIVATE ${name} bock_catch_main ${L_PRIVATE})
    set(extra)
    if(L_UNIT_NEEDS_SETUP)
      list(APPEND extra NEEDS_SETUP)
    endif()
    if(L_UNIT_TIMEOUT)
      list(APPEND extra TIMEOUT ${L_UNIT_TIMEOUT})
    endif()
    bock_add_test(${name}_unit unit ${extra} COMMAND ${name}_unit_tests)
  endif()
endfunction()
