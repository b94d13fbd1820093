a = [1, 2.5, "x\"y", True, {"k": [print()]}]; # comment
if contains(a, 1) { b = a + [nop()]; } elif False { b = 1; } else { b = 2; }
c = union_no_overlap(sort_by_timestamp(query_bucket("w")), chunk_events_by_key(query_bucket("w"), "app"));
d = exclude_keyvals(concat(c, query_bucket("b")), "url", ["about:blank", 7]);
e = filter_keyvals_regex(simplify_window_titles(d, "title"), "title", "^(?!x).*");
return [b == b, 3 % 0, query_bucket_names(), query_bucket_eventcount("a"), TIMEINTERVAL, e, flood(d, 0.5)];
