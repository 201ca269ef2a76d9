// Skipping a unit test honestly. A test that cannot run on this machine
// (no root, no test user, a tool missing) calls BOCK_SKIP(reason) instead of
// WARN + return, which Catch2 and ctest would count as a pass:
//  - under CI=true the skip is a failure (CI machines must run everything);
//  - otherwise the test case is recorded as skipped, and when the run has no
//    failures the binary exits 77, which ctest reports as a skip
//    (SKIP_RETURN_CODE 77 on every unit test, see bock_add_test).
// The bookkeeping and the exit code live in tests/harness/catch_main.cpp.
#pragma once

#include <sstream>
#include <string>

namespace bock::unit_test {

// Records a skip of the running test case, or fails it under CI=true (FAIL
// aborts the test case, so this may be called from a helper function).
// The caller returns afterwards.
void skip(const std::string& reason);

}  // namespace bock::unit_test

// BOCK_SKIP("needs root (uid " << uid << ")"); skips and returns from the
// TEST_CASE (or a void function it calls).
#define BOCK_SKIP(msg)                         \
    do {                                       \
        std::ostringstream bock_skip_os_;      \
        bock_skip_os_ << msg;                  \
        ::bock::unit_test::skip(bock_skip_os_.str()); \
        return;                                \
    } while (0)
