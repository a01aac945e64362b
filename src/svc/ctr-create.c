/* Containers in the store: create, remove, list, inspect, and the check of
 * a recorded "running" against the monitor's lock (ctr.h).
 *
 * Map: paths - create - liveness - remove - list/inspect. */
#include "svc/ctr-internal.h"
#include "svc/internal.h"
#include "ctr/container.h"
#include "image/image.h"
#include "store/containers.h"
#include "store/store.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/json.h"
#include "common/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ID_BYTES 32
#define NAME_MAX_LEN 128
#define KILL_WAIT_MS 10000
#define SWEEP_AGE_S 60

char *vs_svc_ctr_path(const struct vs_svc *svc, const char *id, const char *file)
{
	return file ? xasprintf("%s/" VS_CTR_DIR "/%s/%s", svc->root, id, file) :
		      xasprintf("%s/" VS_CTR_DIR "/%s", svc->root, id);
}

char *vs_svc_ctr_oci_root(const struct vs_svc *svc)
{
	return xasprintf("%s/" VS_CTR_DIR "/" VS_CTR_OCI_DIR, svc->root);
}

static bool name_ok(const char *n)
{
	size_t len = strlen(n);

	if (!len || len > NAME_MAX_LEN ||
	    !strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", n[0]))
		return false;
	return strspn(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") ==
	       len;
}

static int new_id(char out[2 * ID_BYTES + 1])
{
	unsigned char b[ID_BYTES];

	if (getrandom(b, sizeof(b), 0) != sizeof(b))
		return -EIO;
	for (size_t i = 0; i < sizeof(b); i++)
		sprintf(out + 2 * i, "%02x", b[i]);
	return 0;
}

static int check_spec(const struct vs_ctr_spec *s, struct vs_err **err)
{
	struct stat st;

	if (s->name && !name_ok(s->name))
		return vs_err_set(err, -EINVAL,
				  "invalid container name '%s' (letters, digits, _ . -; a letter "
				  "or digit first)",
				  s->name);
	for (size_t i = 0; i < s->n_volumes; i++) {
		const struct vs_ctr_volume *v = &s->volumes[i];

		if (v->source[0] != '/' || v->destination[0] != '/')
			return vs_err_set(err, -EINVAL,
					  "volume %s:%s: both paths must be absolute (named "
					  "volumes are not supported)",
					  v->source, v->destination);
		if (stat(v->source, &st) < 0)
			return vs_err_setsys(err, -errno, "volume source %s", v->source);
	}
	for (size_t i = 0; s->tmpfs && s->tmpfs[i]; i++)
		if (s->tmpfs[i][0] != '/')
			return vs_err_set(err, -EINVAL, "tmpfs %s: not an absolute path",
					  s->tmpfs[i]);
	return 0;
}

static int write_text(const char *path, const char *text, struct vs_err **err)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	size_t len = strlen(text);

	if (fd < 0 || write(fd, text, len) != (ssize_t)len)
		return vs_err_setsys(err, -(errno ? errno : EIO), "cannot write %s", path);
	return 0;
}

/* The directory with config.json, lower, upper/, work/, rootfs/. */
static int make_dir(struct vs_svc *svc, const char *id, const struct vs_image_info *img,
		    const char *config, struct vs_err **err)
{
	static const char *const subdirs[] = { "upper", "work", "rootfs" };
	_cleanup_free_ char *top = xasprintf("%s/" VS_CTR_DIR, svc->root);
	_cleanup_free_ char *dir = vs_svc_ctr_path(svc, id, NULL);
	_cleanup_free_ char *cfg = vs_svc_ctr_path(svc, id, "config.json");
	_cleanup_free_ char *low = vs_svc_ctr_path(svc, id, VS_CTR_LOWER_FILE);
	char *lower = xstrdup("");
	int r;

	if ((mkdir(top, 0700) < 0 && errno != EEXIST) || mkdir(dir, 0700) < 0) {
		free(lower);
		return vs_err_setsys(err, -errno, "cannot create the container's directory %s",
				     dir);
	}
	for (size_t i = 0; i < VS_ARRAY_SIZE(subdirs); i++) {
		_cleanup_free_ char *p = vs_svc_ctr_path(svc, id, subdirs[i]);

		if (mkdir(p, 0755) < 0) {
			free(lower);
			return vs_err_setsys(err, -errno, "cannot create %s", p);
		}
	}
	for (size_t i = img->n_layers; i-- > 0;) {
		char *n = xasprintf("%s%s\n", lower, img->layers[i].dir);

		free(lower);
		lower = n;
	}
	r = write_text(cfg, config, err);
	if (r == 0)
		r = write_text(low, lower, err);
	free(lower);
	return r;
}

static int insert_row(struct vs_svc *svc, const struct vs_ctr_spec *s, const char *id,
		      const struct vs_image_info *img, struct vs_err **err)
{
	_cleanup_json_ json_t *j = vs_ctr_spec_to_json(s);
	_cleanup_free_ char *text = NULL, *gen = NULL;
	struct vs_store_ctr row = { .id = (char *)id,
				    .image = s->image,
				    .image_digest = img->digest,
				    .created_at = vs_svc_now_ms() };
	int r;

	if (!s->name)
		gen = xasprintf("ctr-%.12s", id);
	row.name = s->name ? s->name : gen;
	vs_json_set_str(j, "name", row.name);
	if (img->config.stop_signal)
		vs_json_set_str(j, "stop_signal", img->config.stop_signal);
	row.spec = text = vs_json_dump(j);
	if ((r = vs_store_begin(svc->store, err)) < 0)
		return r;
	if ((r = vs_store_ctr_insert(svc->store, &row, err)) < 0 ||
	    (r = vs_store_commit(svc->store, err)) < 0) {
		vs_store_rollback(svc->store);
		return r;
	}
	return 0;
}

static void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

/* Removes the directories of creates that were killed before adding their
 * row (nothing else refers to them): no row, and older than SWEEP_AGE_S so
 * a create still in progress is left alone. */
static void sweep(struct vs_svc *svc)
{
	_cleanup_free_ char *top = xasprintf("%s/" VS_CTR_DIR, svc->root);
	_cleanup_(closedirp) DIR *d = opendir(top);
	struct dirent *e;
	struct stat st;

	while (d && (e = readdir(d))) {
		struct vs_store_ctr *row = NULL;

		if (strlen(e->d_name) != 2 * ID_BYTES ||
		    strspn(e->d_name, "0123456789abcdef") != 2 * ID_BYTES ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    st.st_mtime > time(NULL) - SWEEP_AGE_S)
			continue;
		if (vs_store_ctr_get(svc->store, e->d_name, &row, NULL) == -ENOENT) {
			_cleanup_free_ char *dir = vs_svc_ctr_path(svc, e->d_name, NULL);

			vs_svc_rmtree(dir);
		}
		vs_store_ctr_free(row);
	}
}

static void image_store_freep(struct vs_image_store **s)
{
	vs_image_store_free(*s);
}

int vs_svc_ctr_create(struct vs_svc *svc, const struct vs_ctr_spec *spec, char **id,
		      struct vs_err **err)
{
	_cleanup_(image_store_freep) struct vs_image_store *is = NULL;
	_cleanup_json_ json_t *cfg = NULL;
	_cleanup_free_ char *rootfs = NULL, *text = NULL, *dir = NULL;
	struct vs_image_info img = { 0 };
	struct vs_ctr_spec full = { 0 };
	_cleanup_free_ struct vs_port_spec *all = NULL;
	char cid[2 * ID_BYTES + 1];
	int r;

	if ((r = check_spec(spec, err)) < 0 || (r = vs_svc_ctr_net_check(svc, spec, err)) < 0)
		return r;
	if ((r = new_id(cid)) < 0)
		return vs_err_set(err, r, "no random bytes for an id");
	if ((r = vs_image_store_open(svc->root, &is, err)) < 0 ||
	    (r = vs_image_inspect(is, spec->image, &img, err)) < 0)
		return r;
	/* -P: the spec recorded is the one with the chosen host ports */
	if (spec->publish_all && spec->network == VS_CTR_NET_BRIDGE) {
		full = *spec;
		if ((r = vs_svc_ctr_net_publish_all(spec, img.config.exposed_ports, &all,
						    &full.n_ports, err)) < 0)
			goto out;
		full.ports = all;
		spec = &full;
	}
	rootfs = vs_svc_ctr_path(svc, cid, "rootfs");
	dir = vs_svc_ctr_path(svc, cid, NULL);
	if ((r = vs_svc_ctr_config(spec, &img, cid, rootfs, &cfg, err)) < 0)
		goto out;
	if (spec->network == VS_CTR_NET_BRIDGE)
		vs_svc_ctr_net_mounts(cfg, dir, spec->n_volumes);
	text = json_dumps(cfg, JSON_INDENT(2));
	sweep(svc);
	vs_svc_step("ctr-create:dir");
	if ((r = make_dir(svc, cid, &img, text, err)) < 0 ||
	    (vs_svc_step("ctr-create:row"), r = insert_row(svc, spec, cid, &img, err)) < 0) {
		vs_svc_rmtree(dir);
		goto out;
	}
	*id = xstrdup(cid);
out:
	vs_image_info_clear(&img);
	return r;
}

void vs_svc_ctr_cleanup(const struct vs_svc *svc, const char *id, bool remove_dir)
{
	_cleanup_free_ char *oci = vs_svc_ctr_oci_root(svc);
	_cleanup_free_ char *st = xasprintf("%s/%s", oci, id);

	if (access(st, F_OK) == 0)
		vs_ctr_delete(oci, id, true, NULL);
	if (remove_dir) {
		_cleanup_free_ char *dir = vs_svc_ctr_path(svc, id, NULL);

		vs_svc_rmtree(dir);
	}
}

/* A row that says running while no monitor holds the lock: the monitor
 * died (SIGKILL, a reboot). Its container is killed and the row recorded
 * exited, unless someone else got there first. */
static void check_live(struct vs_svc *svc, struct vs_store_ctr *row)
{
	_cleanup_free_ char *lock = NULL;
	int64_t pid = row->pid;

	if (strcmp(row->state, "running") != 0)
		return;
	lock = vs_svc_ctr_path(svc, row->id, VS_CTR_LOCK_FILE);
	if (vs_svc_lock_held(lock))
		return;
	vs_svc_ctr_cleanup(svc, row->id, false);
	vs_svc_ctr_net_cleanup(svc, row->id, row->name);
	snprintf(row->state, sizeof(row->state), "exited");
	row->pid = 0;
	row->pid_start = 0;
	row->init_pid = 0;
	row->finished_at = vs_svc_now_ms();
	row->exit_code = 128 + SIGKILL;
	free(row->exit_reason);
	row->exit_reason = xstrdup("monitor died");
	vs_store_ctr_update(svc->store, row, pid, NULL);
}

int vs_svc_ctr_get_row(struct vs_svc *svc, const char *key, struct vs_store_ctr **out,
		       struct vs_err **err)
{
	int r = vs_store_ctr_get(svc->store, key, out, err);

	if (r == -ENOENT)
		return vs_err_set(err, r, "no container named '%s'", key);
	if (r < 0)
		return r;
	check_live(svc, *out);
	return 0;
}

int vs_svc_ctr_remove(struct vs_svc *svc, const char *key, bool force, struct vs_err **err)
{
	struct vs_store_ctr *row = NULL;
	_cleanup_free_ char *lock = NULL;
	int r = vs_svc_ctr_get_row(svc, key, &row, err);

	if (r < 0)
		return r;
	lock = vs_svc_ctr_path(svc, row->id, VS_CTR_LOCK_FILE);
	if (strcmp(row->state, "running") == 0) {
		if (!force) {
			r = vs_err_set(err, -EBUSY,
				       "container %s is running (stop it first, or rm -f)",
				       row->name);
			goto out;
		}
		vs_svc_ctr_mark_stop(svc, row->id);
		vs_svc_ctr_kill(svc, row->id, SIGKILL, NULL);
		if (vs_svc_lock_wait_free(lock, KILL_WAIT_MS) < 0) {
			r = vs_err_set(err, -ETIMEDOUT, "container %s did not stop", row->name);
			goto out;
		}
	}
	if ((r = vs_store_ctr_delete(svc->store, row->id, err)) == -ENOENT)
		r = 0; /* a --rm monitor removed it meanwhile */
	if (r == 0)
		vs_svc_ctr_cleanup(svc, row->id, true);
out:
	vs_store_ctr_free(row);
	return r;
}

static enum vs_ctr_state parse_state(const char *s)
{
	if (strcmp(s, "running") == 0)
		return VS_CTR_ST_RUNNING;
	return strcmp(s, "exited") == 0 ? VS_CTR_ST_EXITED : VS_CTR_ST_CREATED;
}

/* The monitor's count of policy restarts (ctr-monitor.c), 0 if none. */
static unsigned restart_count(const struct vs_svc *svc, const char *id)
{
	_cleanup_free_ char *p = vs_svc_ctr_path(svc, id, VS_CTR_RESTARTS_FILE);
	FILE *f = fopen(p, "re");
	unsigned n = 0;

	if (f) {
		if (fscanf(f, "%u", &n) != 1)
			n = 0;
		fclose(f);
	}
	return n;
}

static void to_info(const struct vs_svc *svc, const struct vs_store_ctr *row, struct vs_ctr_info *i)
{
	*i = (struct vs_ctr_info){
		.id = xstrdup(row->id),
		.name = xstrdup(row->name),
		.image = xstrdup(row->image),
		.image_digest = xstrdup(row->image_digest),
		.spec = json_loads(row->spec, 0, NULL),
		.state = parse_state(row->state),
		.pid = (pid_t)row->init_pid,
		.monitor_pid = (pid_t)row->pid,
		.created_at = row->created_at,
		.started_at = row->started_at,
		.finished_at = row->finished_at,
		.exit_code = row->exit_code,
		.oom_killed = row->oom_killed,
		.exit_reason = row->exit_reason ? xstrdup(row->exit_reason) : NULL,
		.restart_count = restart_count(svc, row->id),
	};
}

int vs_svc_ctr_list(struct vs_svc *svc, struct vs_ctr_info **out, size_t *n, struct vs_err **err)
{
	struct vs_store_ctr **rows = NULL;
	size_t len = 0;
	int r = vs_store_ctr_list(svc->store, &rows, &len, err);

	if (r < 0)
		return r;
	*out = xzalloc((len ? len : 1) * sizeof(**out));
	for (size_t i = 0; i < len; i++) {
		check_live(svc, rows[i]);
		to_info(svc, rows[i], &(*out)[i]);
	}
	*n = len;
	vs_store_ctr_list_free(rows, len);
	vs_svc_ctr_net_fill(svc, *out, len);
	return 0;
}

int vs_svc_ctr_inspect(struct vs_svc *svc, const char *key, struct vs_ctr_info *out,
		       struct vs_err **err)
{
	struct vs_store_ctr *row = NULL;
	int r = vs_svc_ctr_get_row(svc, key, &row, err);

	if (r < 0)
		return r;
	to_info(svc, row, out);
	vs_store_ctr_free(row);
	vs_svc_ctr_net_fill(svc, out, 1);
	return 0;
}

int vs_svc_ctr_log_path(struct vs_svc *svc, const char *key, char **out, char **old,
			struct vs_err **err)
{
	struct vs_store_ctr *row = NULL;
	int r = vs_store_ctr_get(svc->store, key, &row, err);

	if (r == -ENOENT)
		return vs_err_set(err, r, "no container named '%s'", key);
	if (r < 0)
		return r;
	*out = vs_svc_ctr_path(svc, row->id, VS_CTR_LOG_FILE);
	*old = vs_svc_ctr_path(svc, row->id, VS_CTR_LOG_FILE ".1");
	vs_store_ctr_free(row);
	return 0;
}

bool vs_svc_ctr_image_in_use(void *ctx, const char *name, const char *digest, char **who)
{
	struct vs_svc *svc = ctx;
	char *c = NULL;
	int n = vs_store_ctr_count_image(svc->store, digest, &c, NULL);

	(void)name;
	if (n > 0 && who)
		*who = xasprintf("container %s", c);
	free(c);
	return n != 0; /* an error counts as in use: refuse rather than break a container */
}
