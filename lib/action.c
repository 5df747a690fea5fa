#include "execguard.h"

const char *eg_action_name(enum eg_action a)
{
	switch (a) {
	case EG_ACT_NONE:
		return "none";
	case EG_ACT_ALLOW:
		return "allow";
	case EG_ACT_LOG:
		return "log";
	case EG_ACT_CONFIRM:
		return "confirm";
	case EG_ACT_DENY:
		return "deny";
	}
	return "?";
}
