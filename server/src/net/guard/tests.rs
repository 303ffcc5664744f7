use super::*;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn strict() -> GuardPolicy {
    GuardPolicy::default()
}

#[test]
fn private_loopback_and_special_addresses_are_refused() {
    let cases = [
        ("127.0.0.1", "loopback"),
        ("127.5.6.7", "loopback"),
        ("::1", "loopback"),
        ("169.254.169.254", "link-local"),
        ("10.0.0.1", "private"),
        ("192.168.1.1", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.255", "private"),
        ("100.64.0.1", "shared (CGNAT)"),
        ("fc00::1", "unique-local"),
        ("fd12:3456::1", "unique-local"),
        ("fe80::1", "link-local"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:169.254.169.254", "link-local"),
        ("::ffff:10.1.2.3", "private"),
        ("64:ff9b::7f00:1", "loopback"),
        ("64:ff9b::a9fe:a9fe", "link-local"),
        ("2002:7f00:1::", "loopback"),
        ("::127.0.0.1", "IPv4-compatible"),
        ("0.0.0.0", "unspecified"),
        ("0.1.2.3", "this-network"),
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("255.255.255.255", "broadcast"),
        ("240.0.0.1", "reserved"),
        ("192.0.2.1", "documentation"),
        ("198.18.0.1", "benchmarking"),
        ("2001:db8::1", "documentation"),
        ("fec0::1", "site-local"),
        ("4000::1", "reserved"),
    ];
    for (addr, why) in cases {
        assert_eq!(refused(ip(addr), &strict()), Some(why), "{addr}");
    }
}

#[test]
fn public_addresses_are_allowed() {
    for addr in ["8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"] {
        assert_eq!(refused(ip(addr), &strict()), None, "{addr}");
    }
}

#[test]
fn the_allow_list_lets_its_ranges_through_and_nothing_else() {
    let policy = GuardPolicy::new(GuardPolicy::parse_allow("127.0.0.0/8, ::1").unwrap());
    assert_eq!(refused(ip("127.0.0.1"), &policy), None);
    assert_eq!(refused(ip("::1"), &policy), None);
    assert_eq!(refused(ip("::ffff:127.0.0.1"), &policy), None, "the mapped form of an allowed address");
    assert_eq!(refused(ip("10.0.0.1"), &policy), Some("private"));
    assert_eq!(refused(ip("169.254.169.254"), &policy), Some("link-local"));
    let one = GuardPolicy::new(GuardPolicy::parse_allow("127.0.0.1").unwrap());
    assert_eq!(refused(ip("127.0.0.1"), &one), None);
    assert_eq!(refused(ip("127.0.0.2"), &one), Some("loopback"));
}

#[test]
fn the_allow_list_setting_takes_ranges_and_addresses_only() {
    let nets = GuardPolicy::parse_allow(" 10.1.2.3/8 ,,fd00::/8, 192.168.1.10 ").unwrap();
    let shown: Vec<String> = nets.iter().map(ToString::to_string).collect();
    assert_eq!(shown, ["10.0.0.0/8", "fd00::/8", "192.168.1.10/32"]);
    assert_eq!(GuardPolicy::parse_allow("").unwrap(), Vec::<IpNet>::new());
    for bad in ["localhost", "10.0.0.0/33", "example.com", "10.0.0.0/8;rm"] {
        let err = GuardPolicy::parse_allow(bad).unwrap_err();
        assert!(err.contains(bad) && !err.contains('\n'), "{err}");
    }
}

#[test]
fn urls_are_checked_for_scheme_and_address_hosts() {
    let policy = strict();
    let check = |u: &str| policy.check_url(&Url::parse(u).unwrap());
    assert_eq!(check("https://api.openai.com/v1"), Ok(()));
    assert_eq!(check("http://localhost:8080/v1"), Ok(()), "names are checked when resolved");
    assert_eq!(check("https://8.8.8.8/v1"), Ok(()));
    let why = |u: &str| check(u).unwrap_err().to_string();
    assert_eq!(why("http://127.0.0.1:9/v1"), "127.0.0.1: loopback address not allowed");
    assert_eq!(why("http://[::ffff:127.0.0.1]/v1"), "[::ffff:7f00:1]: loopback address not allowed");
    assert_eq!(why("http://169.254.169.254/latest/meta-data"), "169.254.169.254: link-local address not allowed");
    // The URL parser reads the other spellings of an IPv4 address as that address.
    assert_eq!(why("http://2130706433/"), "127.0.0.1: loopback address not allowed");
    assert_eq!(why("http://0x7f.1/"), "127.0.0.1: loopback address not allowed");
    assert_eq!(why("ftp://example.com/"), "ftp: only http and https are allowed");
    assert_eq!(why("file:///etc/passwd"), "file: only http and https are allowed");
}

#[test]
fn refusals_never_show_credentials_or_paths() {
    let client = GuardedClient::new(Arc::default(), CONNECT_TIMEOUT).unwrap();
    let err = client.post("http://user:secret-pass@10.0.0.1/v1/chat?key=sk-abc").unwrap_err().to_string();
    assert_eq!(err, "10.0.0.1: private address not allowed");
    assert_eq!(client.post("not a url").unwrap_err(), Refused::BadUrl);
}

#[test]
fn resolved_addresses_are_filtered_and_an_all_refused_name_is_an_error() {
    let sock = |s: &str| SocketAddr::new(ip(s), 0);
    let policy = strict();
    let kept = policy.checked("mixed.example", vec![sock("10.0.0.1"), sock("8.8.8.8"), sock("::1")]).unwrap();
    assert_eq!(kept, vec![sock("8.8.8.8")]);
    let err = policy.checked("inside.example", vec![sock("169.254.169.254"), sock("127.0.0.1")]).unwrap_err();
    assert_eq!(err, Refused::Address { host: "inside.example".into(), reason: "link-local" });
}

#[test]
fn a_refusal_is_found_through_wrapping_errors() {
    /// As hyper wraps a resolver's error.
    #[derive(Debug)]
    struct Wrapper(BoxError);
    impl std::fmt::Display for Wrapper {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("dns error")
        }
    }
    impl std::error::Error for Wrapper {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&*self.0)
        }
    }
    let inner: BoxError = Refused::TooManyRedirects(3).into();
    let outer = Wrapper(inner);
    assert_eq!(refusal(&outer), Some(&Refused::TooManyRedirects(3)));
    let io = std::io::Error::other("nope");
    assert_eq!(refusal(&io), None);
}
