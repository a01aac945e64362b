/* Disks under <root>/disks/ (disk.h). A disk is made under a temporary
 * name and renamed into place without replacing (RENAME_NOREPLACE), so a
 * taken name or a failure leaves nothing; a linked clone stores its backing
 * disk as a relative name (the directory can move). */
#include "svc/disk.h"
#include "svc/svc.h"
#include "block/block.h"
#include "block/qcow2.h"
#include "block/raw.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/json.h"
#include "common/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const formats[] = { "qcow2", "raw" };

#define ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

static bool name_ok(const char *n)
{
	size_t len = strlen(n);

	if (len == 0 || len > VS_DISK_NAME_MAX || !strchr(ALNUM, n[0]))
		return false;
	return strspn(n, ALNUM "_.-") == len;
}

/* <root>/disks (created if missing). */
static char *disk_dir(const struct vs_svc *svc)
{
	char *d = xasprintf("%s/" VS_DISK_DIR, svc->root);

	mkdir(d, 0700);
	return d;
}

/* The file of a disk that exists (its format in *fmt), or NULL. */
static char *disk_find(const struct vs_svc *svc, const char *name, const char **fmt)
{
	_cleanup_free_ char *d = disk_dir(svc);

	if (!name_ok(name))
		return NULL;
	for (size_t i = 0; i < VS_ARRAY_SIZE(formats); i++) {
		char *p = xasprintf("%s/%s.%s", d, name, formats[i]);

		if (access(p, F_OK) == 0) {
			*fmt = formats[i];
			return p;
		}
		free(p);
	}
	return NULL;
}

static int no_disk(const char *name, struct vs_err **err)
{
	return vs_err_set(err, -ENOENT, "no disk named '%.64s' (see GET /v1/disks)", name);
}

static int check_spec(const struct vs_svc *svc, const struct vs_disk_spec *s, struct vs_err **err)
{
	const char *fmt = s->format ? s->format : "qcow2";
	const char *bfmt;
	_cleanup_free_ char *b = NULL, *taken = NULL;

	if (!s->name || !name_ok(s->name))
		return vs_err_set(err, -EINVAL,
				  "invalid disk name '%.64s' (letters, digits, _ . -; a letter or "
				  "digit first; at most %d)",
				  s->name ? s->name : "", VS_DISK_NAME_MAX);
	if (strcmp(fmt, "qcow2") && strcmp(fmt, "raw"))
		return vs_err_set(err, -EINVAL, "disk format '%.16s': qcow2 or raw", fmt);
	if (s->size > VS_DISK_SIZE_MAX || (s->size == 0 && !s->backing))
		return vs_err_set(err, -EINVAL, "disk size: 1 byte to 64 TiB");
	if (s->size % 512)
		return vs_err_set(err, -EINVAL, "disk size: a multiple of 512 bytes");
	if (s->backing && strcmp(fmt, "qcow2"))
		return vs_err_set(err, -EINVAL, "a disk with a backing disk must be qcow2");
	if (s->backing && !(b = disk_find(svc, s->backing, &bfmt)))
		return vs_err_set(err, -ENOENT, "no backing disk named '%.64s'", s->backing);
	if ((taken = disk_find(svc, s->name, &bfmt)))
		return vs_err_set(err, -EEXIST, "disk %s exists", s->name);
	return 0;
}

/* Makes the image at tmp (the backing disk's size when size is 0). */
static int make_image(const struct vs_svc *svc, const struct vs_disk_spec *s, const char *tmp,
		      struct vs_err **err)
{
	struct qcow2_create_opts o = { .size = s->size };
	_cleanup_free_ char *bname = NULL, *bpath = NULL;
	struct vs_blk *b = NULL;
	const char *bfmt = NULL;
	int r;

	if (s->format && !strcmp(s->format, "raw"))
		return raw_create(tmp, s->size, false, false, err);
	if (s->backing) {
		bpath = disk_find(svc, s->backing, &bfmt);
		if (!bpath)
			return no_disk(s->backing, err);
		if (!o.size) {
			if ((r = vs_blk_open(bpath, bfmt, VS_BLK_RDONLY | VS_BLK_SHARE, &b, err)) <
			    0)
				return r;
			o.size = vs_blk_size(b);
			vs_blk_close(b);
		}
		bname = xasprintf("%s.%s", s->backing, bfmt); /* relative to the directory */
		o.backing = bname;
		o.backing_fmt = bfmt;
	}
	return qcow2_create(tmp, &o, err);
}

int vs_svc_disk_create(struct vs_svc *svc, const struct vs_disk_spec *spec,
		       struct vs_disk_info *out, struct vs_err **err)
{
	_cleanup_free_ char *d = disk_dir(svc), *tmp = NULL, *dst = NULL;
	const char *fmt = spec->format ? spec->format : "qcow2";
	int r = check_spec(svc, spec, err);

	if (r < 0)
		return r;
	tmp = xasprintf("%s/.new-%s-%d.%s", d, spec->name, (int)getpid(), fmt);
	dst = xasprintf("%s/%s.%s", d, spec->name, fmt);
	unlink(tmp);
	if ((r = make_image(svc, spec, tmp, err)) < 0) {
		unlink(tmp);
		return r;
	}
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dst, RENAME_NOREPLACE) < 0) {
		r = errno == EEXIST ? vs_err_set(err, -EEXIST, "disk %s exists", spec->name) :
				      vs_err_setsys(err, -errno, "cannot create %s", dst);
		unlink(tmp);
		return r;
	}
	return out ? vs_svc_disk_info(svc, spec->name, out, err) : 0;
}

static int64_t disk_usage(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (int64_t)st.st_blocks * 512 : 0;
}

static void info_snapshots(struct vs_blk *b, struct vs_disk_info *out)
{
	struct qcow2_snapshot_info *s = NULL;
	size_t n = 0;

	if (qcow2_snapshot_list(b, &s, &n) < 0) {
		qcow2_snapshot_list_free(s, 0);
		return;
	}
	out->snaps = xzalloc((n ? n : 1) * sizeof(*out->snaps));
	for (size_t i = 0; i < n; i++) {
		out->snaps[i].id = xstrdup(s[i].id);
		out->snaps[i].name = xstrdup(s[i].name);
		out->snaps[i].date_sec = s[i].date_sec;
		out->snaps[i].vm_state_size = s[i].vm_state_size;
	}
	out->nsnaps = n;
	qcow2_snapshot_list_free(s, n);
}

int vs_svc_disk_info(struct vs_svc *svc, const char *name, struct vs_disk_info *out,
		     struct vs_err **err)
{
	const char *fmt = NULL;
	_cleanup_free_ char *path = disk_find(svc, name, &fmt);
	struct vs_blk *b = NULL;
	struct qcow2_info qi = { 0 };
	int r;

	if (!path)
		return no_disk(name, err);
	/* shared: a running VM's disk can be looked at */
	r = vs_blk_open(path, fmt, VS_BLK_RDONLY | VS_BLK_SHARE | VS_BLK_NO_BACKING, &b, err);
	if (r < 0)
		return r;
	memset(out, 0, sizeof(*out));
	out->name = xstrdup(name);
	out->format = xstrdup(fmt);
	out->virtual_size = vs_blk_size(b);
	out->actual_size = (uint64_t)disk_usage(path);
	if (qcow2_is(b)) {
		qcow2_get_info(b, &qi);
		out->backing = qi.backing ? xstrdup(qi.backing) : NULL;
		info_snapshots(b, out);
	}
	vs_blk_close(b);
	out->path = steal_ptr(path);
	return 0;
}

static int cmp_info(const void *a, const void *b)
{
	return strcmp(((const struct vs_disk_info *)a)->name,
		      ((const struct vs_disk_info *)b)->name);
}

int vs_svc_disk_list(struct vs_svc *svc, struct vs_disk_info **out, size_t *n, struct vs_err **err)
{
	_cleanup_free_ char *d = disk_dir(svc);
	DIR *dir = opendir(d);
	struct vs_disk_info *v = NULL;
	struct dirent *e;
	size_t len = 0;

	if (!dir)
		return vs_err_setsys(err, -errno, "cannot read %s", d);
	while ((e = readdir(dir))) {
		char *dot = strrchr(e->d_name, '.');
		_cleanup_free_ char *name = NULL;

		if (e->d_name[0] == '.' || !dot || (strcmp(dot, ".qcow2") && strcmp(dot, ".raw")))
			continue;
		name = xasprintf("%.*s", (int)(dot - e->d_name), e->d_name);
		v = xrealloc(v, (len + 1) * sizeof(*v));
		if (vs_svc_disk_info(svc, name, &v[len], NULL) == 0)
			len++; /* one that cannot be read (removed meanwhile) is left out */
	}
	closedir(dir);
	if (len)
		qsort(v, len, sizeof(*v), cmp_info);
	*out = v;
	*n = len;
	return 0;
}

/* The image lock refused us (block/file.c: -EAGAIN): say it in our words. */
static int in_use(const char *name, struct vs_err **err)
{
	if (err) {
		vs_err_free(*err);
		*err = NULL;
	}
	return vs_err_set(err, -EBUSY, "disk %s is in use (a VM has it open)", name);
}

int vs_svc_disk_snapshot(struct vs_svc *svc, const char *name, const char *snap,
			 struct vs_err **err)
{
	const char *fmt = NULL;
	_cleanup_free_ char *path = disk_find(svc, name, &fmt);
	struct vs_blk *b = NULL;
	int r;

	if (!path)
		return no_disk(name, err);
	if (strcmp(fmt, "qcow2"))
		return vs_err_set(err, -EOPNOTSUPP, "disk %s is raw: snapshots need qcow2", name);
	if (!snap || !*snap || strlen(snap) > VS_DISK_NAME_MAX || strchr(snap, '\n'))
		return vs_err_set(err, -EINVAL, "a snapshot name: 1 to %d bytes, one line",
				  VS_DISK_NAME_MAX);
	if ((r = vs_blk_open(path, fmt, 0, &b, err)) < 0)
		return r == -EAGAIN ? in_use(name, err) : r;
	r = qcow2_snapshot_create(b, snap, err);
	if (r == 0 && (r = vs_blk_flush(b)) < 0)
		vs_err_setsys(err, r, "cannot flush %s", path);
	vs_blk_close(b);
	return r;
}

/* Another disk whose backing file is file ("name.fmt")? Its name in *who. */
static bool is_backing(struct vs_svc *svc, const char *file, char **who)
{
	struct vs_disk_info *v = NULL;
	size_t n = 0;
	bool used = false;

	if (vs_svc_disk_list(svc, &v, &n, NULL) < 0)
		return false;
	for (size_t i = 0; i < n && !used; i++) {
		if (v[i].backing && !strcmp(v[i].backing, file)) {
			used = true;
			*who = xstrdup(v[i].name);
		}
	}
	vs_disk_info_list_free(v, n);
	return used;
}

int vs_svc_disk_remove(struct vs_svc *svc, const char *name, struct vs_err **err)
{
	const char *fmt = NULL;
	_cleanup_free_ char *path = disk_find(svc, name, &fmt), *file = NULL, *who = NULL;
	struct vs_blk *b = NULL;
	int r;

	if (!path)
		return no_disk(name, err);
	file = xasprintf("%s.%s", name, fmt);
	if (is_backing(svc, file, &who))
		return vs_err_set(err, -EBUSY, "disk %s is the backing disk of %s", name, who);
	/* the write lock: no VM has it open while we remove it */
	if ((r = vs_blk_open(path, fmt, VS_BLK_NO_BACKING, &b, err)) < 0)
		return r == -EAGAIN ? in_use(name, err) : r;
	r = unlink(path) < 0 ? vs_err_setsys(err, -errno, "cannot remove %s", path) : 0;
	vs_blk_close(b);
	return r;
}

void vs_disk_info_clear(struct vs_disk_info *info)
{
	free(info->name);
	free(info->path);
	free(info->format);
	free(info->backing);
	for (size_t i = 0; i < info->nsnaps; i++) {
		free(info->snaps[i].id);
		free(info->snaps[i].name);
	}
	free(info->snaps);
	*info = (struct vs_disk_info){ 0 };
}

void vs_disk_info_list_free(struct vs_disk_info *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		vs_disk_info_clear(&v[i]);
	free(v);
}

json_t *vs_disk_info_to_json(const struct vs_disk_info *info)
{
	json_t *snaps = json_array();

	for (size_t i = 0; i < info->nsnaps; i++)
		json_array_append_new(
			snaps, json_pack("{s:s, s:s, s:I, s:I}", "id", info->snaps[i].id, "name",
					 info->snaps[i].name, "date_sec",
					 (json_int_t)info->snaps[i].date_sec, "vm_state_size",
					 (json_int_t)info->snaps[i].vm_state_size));
	return json_pack("{s:s, s:s, s:s, s:I, s:I, s:s?, s:o}", "name", info->name, "path",
			 info->path, "format", info->format, "virtual_size",
			 (json_int_t)info->virtual_size, "actual_size",
			 (json_int_t)info->actual_size, "backing", info->backing, "snapshots",
			 snaps);
}
