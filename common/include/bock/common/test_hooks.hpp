// Named kill points for crash-consistency tests. In a build with
// BOCK_TEST_HOOKS (the default test build), kill_point("load-blob-written")
// raises SIGKILL when BOCK_TEST_KILL_POINT names that point. Release builds
// can turn the option off; the calls then compile to nothing.
#pragma once

namespace bock::test_hooks {

#ifdef BOCK_TEST_HOOKS
void kill_point(const char* name);
#else
inline void kill_point(const char*) {}
#endif

}  // namespace bock::test_hooks
