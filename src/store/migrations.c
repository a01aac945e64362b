/* The schema, as numbered migrations. A migration is never edited once
 * released: a change is a new entry with the next number. vs_store_open()
 * applies the missing ones in one transaction and sets PRAGMA user_version.
 *
 * 1: vms - one row per named VM. spec is the JSON of struct vs_vm_spec
 *    (docs/api/vm-spec.md); cpus and mem are copies for listing. state is
 *    the last recorded state (created, starting, running, paused, stopped);
 *    the service layer checks it against the VMM's lock before trusting it.
 *    run_id counts starts, so a late write from an old run changes nothing.
 * 2: containers - one row per container (containers.h). spec is the JSON of
 *    struct vs_ctr_spec (docs/api/container-spec.md); image_digest the
 *    manifest digest it was created from. state is created, running or
 *    exited; pid/pid_start identify the container's monitor while it runs
 *    (the service layer trusts "running" only while the monitor's lock is
 *    held), init_pid the container's init. exit_code as a shell reports it
 *    (128+N for signal N), oom_killed set when the memory cgroup OOM-killed.
 * 3: networks - one row per virtual network (networks.h): its bridge (unique:
 *    a name of at most 15 bytes, derived from the network's), subnet and
 *    gateway as text, internal, mtu and vlan (0: none). addresses - the IPAM
 *    leases: one row per address handed out on a network, with its owner
 *    (kind "vm"/"container"/..., name); (network, address) is the primary
 *    key, so one address can never be recorded twice. */
#include "store/internal.h"
#include "common/util.h"

const struct vs_migration vs_store_migrations[] = {
	{ 1, "CREATE TABLE vms ("
	     " name TEXT PRIMARY KEY NOT NULL,"
	     " spec TEXT NOT NULL,"
	     " cpus INTEGER NOT NULL,"
	     " mem INTEGER NOT NULL,"
	     " autostart INTEGER NOT NULL DEFAULT 0,"
	     " created_at INTEGER NOT NULL,"
	     " state TEXT NOT NULL DEFAULT 'created',"
	     " run_id INTEGER NOT NULL DEFAULT 0,"
	     " pid INTEGER NOT NULL DEFAULT 0,"
	     " pid_start INTEGER NOT NULL DEFAULT 0,"
	     " started_at INTEGER NOT NULL DEFAULT 0,"
	     " stopped_at INTEGER NOT NULL DEFAULT 0,"
	     " exit_reason TEXT,"
	     " exit_status INTEGER NOT NULL DEFAULT 0"
	     ") WITHOUT ROWID;" },
	{ 2, "CREATE TABLE containers ("
	     " id TEXT PRIMARY KEY NOT NULL,"
	     " name TEXT NOT NULL UNIQUE,"
	     " image TEXT NOT NULL,"
	     " image_digest TEXT NOT NULL,"
	     " spec TEXT NOT NULL,"
	     " created_at INTEGER NOT NULL,"
	     " state TEXT NOT NULL DEFAULT 'created',"
	     " pid INTEGER NOT NULL DEFAULT 0,"
	     " pid_start INTEGER NOT NULL DEFAULT 0,"
	     " init_pid INTEGER NOT NULL DEFAULT 0,"
	     " started_at INTEGER NOT NULL DEFAULT 0,"
	     " finished_at INTEGER NOT NULL DEFAULT 0,"
	     " exit_code INTEGER NOT NULL DEFAULT 0,"
	     " oom_killed INTEGER NOT NULL DEFAULT 0,"
	     " exit_reason TEXT"
	     ") WITHOUT ROWID;" },
	{ 3, "CREATE TABLE networks ("
	     " name TEXT PRIMARY KEY NOT NULL,"
	     " bridge TEXT NOT NULL UNIQUE,"
	     " subnet TEXT NOT NULL,"
	     " gateway TEXT NOT NULL,"
	     " internal INTEGER NOT NULL DEFAULT 0,"
	     " mtu INTEGER NOT NULL DEFAULT 0,"
	     " vlan INTEGER NOT NULL DEFAULT 0,"
	     " created_at INTEGER NOT NULL"
	     ") WITHOUT ROWID;"
	     "CREATE TABLE addresses ("
	     " network TEXT NOT NULL REFERENCES networks(name),"
	     " address TEXT NOT NULL,"
	     " owner_kind TEXT NOT NULL,"
	     " owner_name TEXT NOT NULL,"
	     " allocated_at INTEGER NOT NULL,"
	     " PRIMARY KEY (network, address)"
	     ") WITHOUT ROWID;"
	     "CREATE INDEX addresses_owner ON addresses (owner_kind, owner_name);" },
};

const unsigned vs_store_nmigrations = VS_ARRAY_SIZE(vs_store_migrations);
