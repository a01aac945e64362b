/* -Ddashboard=false: no assets; `/` says the dashboard is not built in. */
#include "api/web.h"

const struct vs_web_asset vs_web_assets[1];
const size_t vs_web_nassets = 0;
