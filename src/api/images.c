/* /v1/images: the container image store (image/image.h), listed as
 * `vessel image ls --format json` prints it. */
#include "api/internal.h"
#include "common/err.h"

void api_images_list(struct vs_api_ctx *ctx, struct vs_api_req *req, struct vs_api_resp *resp)
{
	static const char *const no_args[] = { NULL };
	struct vs_err *err = NULL;
	json_t *a = NULL;
	int r;

	if (!api_args_check(req, no_args, resp))
		return;
	if ((r = ctx->be->image_list(ctx->root, &a, &err)) < 0)
		return api_reply_err(resp, r, err);
	api_reply_json(resp, 200, a);
}
