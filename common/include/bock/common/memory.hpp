// Memory of long-lived helpers (bock-monitor, bock-netns): they live as
// long as their container, so what they used only to start should not
// stay resident (docs/monitor.md, docs/netns-helper.md "Memory").
#pragma once

namespace bock {

// Drops the process's code and read-only data from its page tables (the
// read-only segments of the executable and of every loaded library: never
// written, so nothing is lost; the next use faults them back from the page cache) and
// returns malloc's free memory to the kernel. Call it once the process is
// idle in its loop: what the loop touches comes back, what only the start
// touched does not.
void shed_startup_pages();

}  // namespace bock
