/* ns: the notification server connection: the login (VER, CVR, USR, and
 * XFR NS redirects), the contact list (SYN/LST, ADC/REM), presence (CHG,
 * ILN/NLN/FLN), the reverse list's authorization requests, CHL/QRY,
 * keep-alives, and switchboard requests (XFR SB, RNG). */
#ifndef NS_H
#define NS_H

#include "msn.h"

/* Connects to host:port and starts the login. */
void ns_start(msn_session *s, const char *host, int port);

/* Passport's ticket for USR TWN S (passport.c calls it). */
void ns_ticket(msn_session *s, const char *ticket);

/* Sends CHG with code (NLN, AWY, BSY; static string) once logged in;
 * before that, remembers it for the first CHG. */
void ns_set_status(msn_session *s, const char *code);

/* Puts email on FL and AL (a buddy added here). */
void ns_add_contact(msn_session *s, const char *email);

/* Takes email off FL and AL. */
void ns_remove_contact(msn_session *s, const char *email);

/* Asks for a switchboard (XFR SB); returns its transaction id, or 0 when
 * none may be asked yet (before the first CHG is answered). */
guint ns_request_sb(msn_session *s);

/* Stops timers and closes the connection. */
void ns_close(msn_session *s);

#endif
