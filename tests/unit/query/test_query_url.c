/* split_url_events' URL parser against WHATWG URL results (what aw-server-rust's `url`
 * crate produces), and the fast duration formatter against serde_json's float form. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qtest.h"

static void check(const char *in, const char *scheme, const char *host, const char *path, const char *query)
{
	qurl u;
	url_init(&u);
	if (!scheme) {
		if (url_parse(&u, in, strlen(in)))
			fail_msg("%s: expected failure, got scheme=%s host=%s path=%s", in, u.scheme.data, u.host.data, u.path.data);
		url_free(&u);
		return;
	}
	if (!url_parse(&u, in, strlen(in)))
		fail_msg("%s: parse failed", in);
#define EQ(buf, want)                                                                                      \
	if (strcmp((buf).data ? (buf).data : "", want))                                                    \
		fail_msg("%s: %s is '%s', want '%s'", in, #buf, (buf).data ? (buf).data : "", want);
	EQ(u.scheme, scheme);
	EQ(u.host, host);
	EQ(u.path, path);
	EQ(u.query, query);
#undef EQ
	url_free(&u);
}

static void test_urls(void **state)
{
	(void)state;
	check("http://www.google.com/path?query=1", "http", "www.google.com", "/path", "query=1");
	check("https://github.com/alpha/beta", "https", "github.com", "/alpha/beta", "");
	check("https://mail.google.com/mail/u/0/#inbox", "https", "mail.google.com", "/mail/u/0/", "");
	check("HTTPS://Example.COM", "https", "example.com", "/", "");
	check("http://example.com:8080/a", "http", "example.com", "/a", "");
	check("http://example.com:80/a", "http", "example.com", "/a", "");
	check("http://user:pass@example.com/a", "http", "example.com", "/a", "");
	check("http://example.com/a/./b/../c", "http", "example.com", "/a/c", "");
	check("http://example.com/a/%2e%2E/c", "http", "example.com", "/c", "");
	check("http://example.com/a b\"<>`{}", "http", "example.com", "/a%20b%22%3C%3E%60%7B%7D", "");
	check("http://example.com/?q=a b'\"", "http", "example.com", "/", "q=a%20b%27%22");
	check("http://example.com/\xc3\xa9", "http", "example.com", "/%C3%A9", "");
	check("http:\\\\example.com\\a\\b", "http", "example.com", "/a/b", "");
	check("  http://example.com/x  ", "http", "example.com", "/x", "");
	check("http://exa\tmple.com/x", "http", "example.com", "/x", "");
	check("http://192.168.0.1/", "http", "192.168.0.1", "/", "");
	check("http://0x7f.1/", "http", "127.0.0.1", "/", "");
	check("http://3232235521/", "http", "192.168.0.1", "/", "");
	check("http://[::1]:8000/", "http", "[::1]", "/", "");
	check("http://[2001:DB8:0:0:1:0:0:1]/", "http", "[2001:db8::1:0:0:1]", "/", "");
	check("http://[::ffff:192.168.0.1]/", "http", "[::ffff:c0a8:1]", "/", "");
	check("http://m\xc3\xbcnchen.de/", "http", "xn--mnchen-3ya.de", "/", "");
	check("http://ex%41mple.com/", "http", "example.com", "/", "");
	check("file:///home/user/document.pdf", "file", "", "/home/user/document.pdf", "");
	check("file://localhost/etc/hosts", "file", "", "/etc/hosts", "");
	check("file://server/share/x", "file", "server", "/share/x", "");
	check("file:///C:/x/../y", "file", "", "/C:/y", "");
	check("about:blank", "about", "", "blank", "");
	check("about:newtab", "about", "", "newtab", "");
	check("chrome://newtab/", "chrome", "newtab", "/", "");
	check("moz-extension://1234-abcd/page.html?x=1", "moz-extension", "1234-abcd", "/page.html", "x=1");
	check("mailto:someone@example.com", "mailto", "", "someone@example.com", "");
	check("data:text/plain,hello world", "data", "", "text/plain,hello world", "");
	check("javascript:alert(1)", "javascript", "", "alert(1)", "");
	check("view-source:https://x.org/", "view-source", "", "https://x.org/", "");
	check("foo://host", "foo", "host", "", "");
	/* failures */
	check("not a url", NULL, NULL, NULL, NULL);
	check("", NULL, NULL, NULL, NULL);
	check("/relative/path", NULL, NULL, NULL, NULL);
	check("http://", NULL, NULL, NULL, NULL);
	check("http://exa mple.com/", NULL, NULL, NULL, NULL);
	check("http://example.com:99999/", NULL, NULL, NULL, NULL);
	check("http://example.com:80a/", NULL, NULL, NULL, NULL);
	check("http://[::1/", NULL, NULL, NULL, NULL);
	check("http://1.2.3.256/", NULL, NULL, NULL, NULL);
	check("http://user@/x", NULL, NULL, NULL, NULL);
	check("1http://x", NULL, NULL, NULL, NULL);
}

static void test_fmt_secs(void **state)
{
	char a[64], b[64];
	uint64_t x = 88172645463325252ull;
	static const aw_ns fixed[] = {0, 1, 999, 9999, 10000, 123456, 1000000, 999999999, 1000000000, 1500000000,
				      1004999999, 86400000000000LL, 999999999999999LL, 1000000000000000LL,
				      -1, -10000, -1500000000, INT64_MAX, INT64_MIN + 1};

	(void)state;
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		format_secs(a, fixed[i]);
		aw_float_format(b, (double)fixed[i] / 1e9);
		if (strcmp(a, b))
			fail_msg("%lld: fast %s, reference %s", (long long)fixed[i], a, b);
	}
	for (int i = 0; i < 200000; i++) {
		aw_ns ns;
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		ns = (aw_ns)(x % 2000000000000000ull) - 1000000000000000LL;
		if (i % 3 == 0)
			ns -= ns % 1000000; /* millisecond precision, the common case */
		if (i % 5 == 0)
			ns %= 100000000000LL;
		format_secs(a, ns);
		aw_float_format(b, (double)ns / 1e9);
		if (strcmp(a, b))
			fail_msg("%lld: fast %s, reference %s", (long long)ns, a, b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_urls),
		cmocka_unit_test(test_fmt_secs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
