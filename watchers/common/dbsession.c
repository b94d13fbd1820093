/* The session bus for the watchers' desktop backends: see dbsession.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbsession.h"

int aw_dbsession_open(sd_bus **out, char *err, size_t errlen)
{
	int r = sd_bus_open_user(out);

	if (r < 0) {
		*out = NULL;
		snprintf(err, errlen, "cannot connect to the D-Bus session bus: %s", strerror(-r));
		return -1;
	}
	sd_bus_set_method_call_timeout(*out, AW_DBSESSION_TIMEOUT_US);
	return 0;
}

char *aw_dbsession_owner(sd_bus *bus, const char *name)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *m = NULL;
	const char *owner = NULL;
	char *copy = NULL;

	if (sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
			       "GetNameOwner", &e, &m, "s", name) >= 0 &&
	    sd_bus_message_read(m, "s", &owner) >= 0 && owner)
		copy = strdup(owner);
	sd_bus_error_free(&e);
	sd_bus_message_unref(m);
	return copy;
}

bool aw_dbsession_has(const char *name)
{
	sd_bus *bus = NULL;
	char err[160], *owner;
	bool has;

	if (aw_dbsession_open(&bus, err, sizeof(err)))
		return false;
	owner = aw_dbsession_owner(bus, name);
	sd_bus_flush_close_unref(bus);
	has = owner != NULL;
	free(owner);
	return has;
}
