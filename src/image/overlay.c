/* An image's rootfs as an overlay mount (Documentation/filesystems/
 * overlayfs.rst): its layers as lowerdirs, top layer first, over a
 * container's upper and work directories. With the new mount API each
 * lower layer is its own "lowerdir+" parameter (Linux 6.8), so no option
 * string limits how many layers an image has; older kernels get mount(2)
 * with a "lowerdir=a:b:c" list (one page of options at most). */
#include "image/internal.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

static int mount_new_api(const struct vs_image_info *img, const char *upper, const char *work,
			 const char *target)
{
	_cleanup_close_ int fs = fsopen("overlay", FSOPEN_CLOEXEC), mnt = -1;

	if (fs < 0)
		return -errno;
	for (size_t i = img->n_layers; i-- > 0;)
		if (fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir+", img->layers[i].dir, 0) < 0)
			return -errno;
	if (fsconfig(fs, FSCONFIG_SET_STRING, "upperdir", upper, 0) < 0 ||
	    fsconfig(fs, FSCONFIG_SET_STRING, "workdir", work, 0) < 0 ||
	    fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return -errno;
	mnt = fsmount(fs, FSMOUNT_CLOEXEC, 0);
	if (mnt < 0)
		return -errno;
	return move_mount(mnt, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0 ? -errno : 0;
}

static int mount_old_api(const struct vs_image_info *img, const char *upper, const char *work,
			 const char *target)
{
	size_t len = strlen(upper) + strlen(work) + 64;
	_cleanup_free_ char *opts = NULL;
	char *o;

	for (size_t i = 0; i < img->n_layers; i++)
		len += strlen(img->layers[i].dir) + 1;
	o = opts = xmalloc(len);
	o += sprintf(o, "lowerdir=");
	for (size_t i = img->n_layers; i-- > 0;)
		o += sprintf(o, "%s%s", img->layers[i].dir, i ? ":" : "");
	sprintf(o, ",upperdir=%s,workdir=%s", upper, work);
	if (len > (size_t)sysconf(_SC_PAGESIZE))
		return -E2BIG;
	return mount("overlay", target, "overlay", 0, opts) < 0 ? -errno : 0;
}

int vs_image_overlay_mount(const struct vs_image_info *img, const char *upper, const char *work,
			   const char *target, struct vs_err **err)
{
	int rc;

	if (img->n_layers == 0)
		return vs_err_set(err, -EINVAL, "image %s has no layers", img->name);
	for (size_t i = 0; i < img->n_layers; i++)
		if (strchr(img->layers[i].dir, ':') || strchr(img->layers[i].dir, ','))
			return vs_err_set(err, -EINVAL, "layer path %s has ':' or ','",
					  img->layers[i].dir);
	rc = mount_new_api(img, upper, work, target);
	if (rc == -EINVAL || rc == -ENOSYS)
		rc = mount_old_api(img, upper, work, target);
	if (rc < 0)
		return vs_err_setsys(err, rc, "mounting the overlay of %s on %s", img->name,
				     target);
	return 0;
}
