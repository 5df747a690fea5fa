/* Reading settings from a policy block; hook-path safe. */
#include <string.h>

#include "policy_block.h"
#include "hot_text.h"

EG_HOT_TEXT const char *eg_policy_setting(const struct eg_policy *p, const char *key)
{
	if (!p || !key)
		return NULL;
	for (uint32_t i = 0; i < p->h->n_settings; i++)
		if (strcmp(eg_blk_str(p, p->settings[i].key), key) == 0)
			return eg_blk_str(p, p->settings[i].value);
	return NULL;
}

EG_HOT_TEXT bool eg_policy_setting_bool(const struct eg_policy *p, const char *key, bool dflt)
{
	const char *v = eg_policy_setting(p, key);
	if (!v)
		return dflt;
	return strcmp(v, "on") == 0;
}

EG_HOT_TEXT unsigned eg_policy_setting_seconds(const struct eg_policy *p, const char *key, unsigned dflt)
{
	const char *v = eg_policy_setting(p, key);
	if (!v || !*v)
		return dflt;
	unsigned n = 0;
	for (; *v; v++) {
		if (*v < '0' || *v > '9' || n > 86400)
			return dflt; /* the parser admits only 0..86400 */
		n = n * 10 + (unsigned)(*v - '0');
	}
	return n;
}

size_t eg_policy_setting_count(const struct eg_policy *p)
{
	return p ? p->h->n_settings : 0;
}

int eg_policy_setting_info(const struct eg_policy *p, size_t i, struct eg_setting_info *out)
{
	if (!p || i >= p->h->n_settings)
		return -1;
	const struct eg_blk_setting *st = &p->settings[i];
	out->key = eg_blk_str(p, st->key);
	out->value = eg_blk_str(p, st->value);
	out->file = p->h->n_files ? eg_blk_str(p, p->files[st->file]) : "";
	out->line = st->line;
	out->protected_src = st->protected_src != 0;
	return 0;
}
