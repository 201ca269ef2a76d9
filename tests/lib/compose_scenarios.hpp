// End-to-end checks of `bock compose` / `bockrose` (compose/, docs/compose.md),
// run by tests/rootless/compose_test.cpp (the test user) and
// tests/root/compose_root_test.cpp (root). Each expects an empty store.
#pragma once

namespace bock::test {

// A project as real ones are written (web, api, a database-like server
// with a health check, a one-shot init job, a worker; .env, an override
// file, a named volume): up -d in dependency order, pages by service name
// and alias across the project network, the init job's file through the
// volume, labels, up again changes nothing, one service's changed
// environment recreates only it, ps/logs/config, the bockrose symlink,
// and down -v leaves no container, network, volume or helper.
void check_compose_project();
// A never-healthy dependency: up --wait fails naming it and its dependant
// is not created; a one-shot exiting 3 under service_completed_successfully:
// up fails naming the job and the code; a dependency cycle is refused
// naming it before anything is made; down -v cleans up.
void check_compose_failures();
// `up -d` SIGKILLed while it waits for a health check: a second `up -d`
// converges (nothing duplicated, the first container kept); an attached
// `up` shows the prefixed logs and Ctrl-C (SIGINT) stops the project;
// down -v cleans everything.
void check_compose_interrupted();
// create (nothing started), then up; secrets and configs read-only at
// their targets, volumes_from, logging's driver; port, top, images,
// events (the project's only), pause/unpause (refused rootless on cgroup
// v1 naming why), kill + wait (the exit code), deploy.resources.limits
// (enforced as root, refused rootless on cgroup v1 naming the fix), pull
// failing naming the service, down --rmi all removing the services' images.
void check_compose_commands();

}  // namespace bock::test
