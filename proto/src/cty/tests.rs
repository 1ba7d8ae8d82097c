//! Codec tests: round trips for every type, unknowns and refinements,
//! dynamic values, exact numbers, and fixtures whose bytes were derived by
//! hand from the cty msgpack rules.

use super::*;

fn rt_msgpack(v: &Value, ty: &Type) -> Vec<u8> {
    let bytes = msgpack::encode(v, ty).unwrap();
    let back = msgpack::decode(&bytes, ty).unwrap();
    assert_eq!(&back, v, "msgpack round trip of {v:?} as {ty:?}");
    bytes
}

fn rt_json(v: &Value, ty: &Type) -> String {
    let bytes = json::encode(v, ty).unwrap();
    let back = json::decode(&bytes, ty).unwrap();
    assert_eq!(&back, v, "json round trip of {v:?} as {ty:?}");
    String::from_utf8(bytes).unwrap()
}

fn num(s: &str) -> Value {
    Value::Number(Number::parse(s).unwrap())
}

fn all_types_value() -> (Value, Type) {
    let ty = Type::object([
        ("b", Type::Bool),
        ("n", Type::Number),
        ("s", Type::String),
        ("l", Type::list(Type::String)),
        ("st", Type::set(Type::Number)),
        ("m", Type::map(Type::Bool)),
        ("t", Type::tuple([Type::String, Type::Number])),
        ("o", Type::object([("inner", Type::String)])),
        ("d", Type::Dynamic),
        ("nul", Type::String),
        ("el", Type::list(Type::Bool)),
    ]);
    let v = Value::object([
        ("b", Value::Bool(true)),
        ("n", num("-42.125")),
        ("s", Value::string("héllo \"q\"\n")),
        ("l", Value::List(vec!["a".into(), "b".into()])),
        ("st", Value::Set(vec![num("1"), num("2")])),
        ("m", Value::map([("k", Value::Bool(false))])),
        ("t", Value::Tuple(vec!["x".into(), num("7")])),
        ("o", Value::object([("inner", Value::string("i"))])),
        (
            "d",
            Value::dynamic(Type::list(Type::Number), Value::List(vec![num("3")])),
        ),
        ("nul", Value::Null),
        ("el", Value::List(vec![])),
    ]);
    (v, ty)
}

#[test]
fn every_type_round_trips_in_msgpack_and_json() {
    let (v, ty) = all_types_value();
    rt_msgpack(&v, &ty);
    rt_json(&v, &ty);
    for (v, ty) in [
        (Value::Bool(false), Type::Bool),
        (num("0"), Type::Number),
        (Value::string(""), Type::String),
        (Value::Null, Type::map(Type::String)),
        (Value::Null, Type::Dynamic),
        (Value::dynamic(Type::String, Value::Null), Type::Dynamic),
    ] {
        rt_msgpack(&v, &ty);
        rt_json(&v, &ty);
    }
}

#[test]
fn exact_numbers_round_trip() {
    for s in [
        "18446744073709551617",    // 2^64 + 1
        "-1180591620717411303424", // -2^70
        "0.1",
        "1e400",
        "-1e-400",
        "9223372036854775807",
        "-9223372036854775808",
        "9223372036854775808",
        "18446744073709551615",
        "3.14159265358979323846264338327950288419716939937510",
        "0.5",
        "1.7976931348623157e308",
    ] {
        let v = num(s);
        rt_msgpack(&v, &Type::Number);
        rt_json(&v, &Type::Number);
    }
}

#[test]
fn number_wire_forms_follow_cty() {
    // integral and within i64: msgpack int
    assert_eq!(msgpack::encode(&num("1"), &Type::Number).unwrap(), [0x01]);
    assert_eq!(msgpack::encode(&num("-1"), &Type::Number).unwrap(), [0xff]);
    assert_eq!(
        msgpack::encode(&num("-9223372036854775808"), &Type::Number).unwrap(),
        [0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0]
    );
    // -2^70 is exactly a float64: sign 1, biased exponent 1093 = 0x445
    assert_eq!(
        msgpack::encode(&num("-1180591620717411303424"), &Type::Number).unwrap(),
        [0xcb, 0xc4, 0x50, 0, 0, 0, 0, 0, 0]
    );
    // 0.5 is exactly a float64
    assert_eq!(
        msgpack::encode(&num("0.5"), &Type::Number).unwrap(),
        [0xcb, 0x3f, 0xe0, 0, 0, 0, 0, 0, 0]
    );
    // 0.1 is not: decimal string
    assert_eq!(
        msgpack::encode(&num("0.1"), &Type::Number).unwrap(),
        [0xa3, b'0', b'.', b'1']
    );
    // 2^64 + 1: fixstr of 20 chars
    let mut want = vec![0xa0 | 20];
    want.extend_from_slice(b"18446744073709551617");
    assert_eq!(
        msgpack::encode(&num("18446744073709551617"), &Type::Number).unwrap(),
        want
    );
    // 1e400: str16 of 401 chars, plain positional digits
    let bytes = msgpack::encode(&num("1e400"), &Type::Number).unwrap();
    assert_eq!(&bytes[..4], &[0xda, 0x01, 0x91, b'1']);
    assert_eq!(bytes.len(), 3 + 401);
    assert!(bytes[4..].iter().all(|b| *b == b'0'));
    // decoding other wire forms: uint64, float32, string in scientific form
    assert_eq!(
        msgpack::decode(
            &[0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            &Type::Number
        )
        .unwrap(),
        num("18446744073709551615")
    );
    assert_eq!(
        msgpack::decode(&[0xca, 0x3f, 0xc0, 0, 0], &Type::Number).unwrap(),
        num("1.5")
    );
    assert_eq!(
        msgpack::decode(&[0xa5, b'1', b'e', b'4', b'0', b'0'], &Type::Number).unwrap(),
        num("1e400")
    );
    // JSON numbers are exact too
    assert_eq!(
        rt_json(&num("18446744073709551617"), &Type::Number),
        "18446744073709551617"
    );
    assert_eq!(rt_json(&num("0.1"), &Type::Number), "0.1");
}

#[test]
fn unknown_fixtures_decode_from_hand_derived_bytes() {
    // object({id=string,name=string}) with id unknown:
    // fixmap(2) "id" fixext1(type 0, 0x00) "name" "x"
    let ty = Type::object([("id", Type::String), ("name", Type::String)]);
    let bytes = [
        0x82, 0xa2, b'i', b'd', 0xd4, 0x00, 0x00, 0xa4, b'n', b'a', b'm', b'e', 0xa1, b'x',
    ];
    let v = msgpack::decode(&bytes, &ty).unwrap();
    assert_eq!(
        v,
        Value::object([("id", Value::unknown()), ("name", Value::string("x"))])
    );
    assert_eq!(msgpack::encode(&v, &ty).unwrap(), bytes);

    // zero-length extension (fixext is never 0, so ext8 len 0) is also unknown
    assert_eq!(
        msgpack::decode(&[0xc7, 0x00, 0x00], &Type::String).unwrap(),
        Value::unknown()
    );

    // refined string: not null, prefix "ab":
    // ext8 len 7 type 12, payload fixmap(2) {1: false, 2: "ab"}
    let refined = [0xc7, 0x07, 0x0c, 0x82, 0x01, 0xc2, 0x02, 0xa2, b'a', b'b'];
    let want = Value::Unknown(Refinements {
        nullness: Some(false),
        string_prefix: Some("ab".into()),
        ..Default::default()
    });
    assert_eq!(msgpack::decode(&refined, &Type::String).unwrap(), want);
    assert_eq!(msgpack::encode(&want, &Type::String).unwrap(), refined);

    // refined number: not null, >= 0 inclusive, < 10 exclusive
    let refined_num = [
        0xc7, 0x0b, 0x0c, 0x83, 0x01, 0xc2, 0x03, 0x92, 0x00, 0xc3, 0x04, 0x92, 0x0a, 0xc2,
    ];
    let want_num = Value::Unknown(Refinements {
        nullness: Some(false),
        number_lower: Some((Number::from(0i64), true)),
        number_upper: Some((Number::from(10i64), false)),
        ..Default::default()
    });
    assert_eq!(
        msgpack::decode(&refined_num, &Type::Number).unwrap(),
        want_num
    );
    assert_eq!(
        msgpack::encode(&want_num, &Type::Number).unwrap(),
        refined_num
    );

    // refined list length 1..=3: payload {5: 1, 6: 3}
    let refined_list = [0xc7, 0x05, 0x0c, 0x82, 0x05, 0x01, 0x06, 0x03];
    let want_list = Value::Unknown(Refinements {
        length_lower: Some(1),
        length_upper: Some(3),
        ..Default::default()
    });
    let lty = Type::list(Type::String);
    assert_eq!(msgpack::decode(&refined_list, &lty).unwrap(), want_list);
    assert_eq!(msgpack::encode(&want_list, &lty).unwrap(), refined_list);

    // unknown future refinement keys are ignored
    assert_eq!(
        msgpack::decode(&[0xc7, 0x03, 0x0c, 0x81, 0x63, 0xc3], &Type::String).unwrap(),
        Value::Unknown(Refinements::default())
    );
}

#[test]
fn refinements_are_filtered_by_type_and_checked_on_decode() {
    // a prefix on a number type is not encoded: plain unknown
    let v = Value::Unknown(Refinements {
        string_prefix: Some("x".into()),
        ..Default::default()
    });
    assert_eq!(msgpack::encode(&v, &Type::Number).unwrap(), [0xd4, 0, 0]);
    // dynamic unknowns never carry refinements
    assert_eq!(
        msgpack::encode(&Value::Unknown(Refinements::not_null()), &Type::Dynamic).unwrap(),
        [0xd4, 0, 0]
    );
    // a string-prefix refinement where a number is expected is rejected
    let refined = [0xc7, 0x04, 0x0c, 0x81, 0x02, 0xa1, b'a'];
    assert!(msgpack::decode(&refined, &Type::Number).is_err());
    // a non-refinement extension with a payload is rejected
    assert!(msgpack::decode(&[0xd5, 0x05, 0x01, 0x02], &Type::String).is_err());
    // refinement round trip on a set with only nullness
    let set_ty = Type::set(Type::String);
    rt_msgpack(&Value::Unknown(Refinements::not_null()), &set_ty);
}

#[test]
fn dynamic_values_carry_their_type() {
    // "hi" in a dynamic slot: [bin8("\"string\""), "hi"]
    let want = [
        0x92, 0xc4, 0x08, b'"', b's', b't', b'r', b'i', b'n', b'g', b'"', 0xa2, b'h', b'i',
    ];
    let v = Value::dynamic(Type::String, Value::string("hi"));
    assert_eq!(rt_msgpack(&v, &Type::Dynamic), want);
    // plain primitives get their implied type
    assert_eq!(
        msgpack::encode(&Value::string("hi"), &Type::Dynamic).unwrap(),
        want
    );
    // the type may also arrive as a str
    let mut as_str = want;
    as_str[1] = 0xd9; // str8
    assert_eq!(msgpack::decode(&as_str, &Type::Dynamic).unwrap(), v);
    // JSON form
    assert_eq!(
        rt_json(&v, &Type::Dynamic),
        r#"{"value":"hi","type":"string"}"#
    );
    // wholly unknown dynamic
    rt_msgpack(&Value::unknown(), &Type::Dynamic);
    // unknown with a known type inside a dynamic slot
    rt_msgpack(
        &Value::dynamic(Type::Number, Value::unknown()),
        &Type::Dynamic,
    );
    // ambiguous plain values are refused
    assert!(msgpack::encode(&Value::List(vec![]), &Type::Dynamic).is_err());
}

#[test]
fn json_decoding_of_state() {
    let ty = Type::object([
        ("id", Type::String),
        ("count", Type::Number),
        ("tags", Type::map(Type::String)),
        ("missing", Type::Bool),
    ]);
    let raw = br#" {"id":"abc\u00e9\ud83d\ude00","count":123456789012345678901234567890.5,"tags":{"a":"b"}} "#;
    let v = json::decode(raw, &ty).unwrap();
    assert_eq!(v.get_attr("id").and_then(Value::as_str), Some("abcé😀"));
    assert_eq!(
        v.get_attr("count")
            .and_then(Value::as_number)
            .map(ToString::to_string),
        Some("123456789012345678901234567890.5".to_string())
    );
    assert_eq!(v.get_attr("missing"), Some(&Value::Null));
    for bad in [
        &br#"{"id":1}"#[..],
        br#"{"nope":"x"}"#,
        br#"{"id":"x"} x"#,
        br#"{"id":"x""#,
        br#"{"count":01}"#,
        br#"{"count":1.}"#,
    ] {
        assert!(
            json::decode(bad, &ty).is_err(),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
    assert!(json::encode(&Value::unknown(), &Type::String).is_err());
    let deep = "[".repeat(1000) + &"]".repeat(1000);
    assert!(json::decode(deep.as_bytes(), &Type::Dynamic).is_err());
}

#[test]
fn mismatches_and_garbage_are_errors_not_panics() {
    assert!(msgpack::encode(&Value::Bool(true), &Type::String).is_err());
    assert!(msgpack::encode(
        &Value::object([("x", Value::Null)]),
        &Type::object([("y", Type::String)])
    )
    .is_err());
    assert!(msgpack::encode(&Value::Tuple(vec![]), &Type::tuple([Type::String])).is_err());
    assert!(msgpack::decode(&[0xc3], &Type::String).is_err());
    assert!(msgpack::decode(&[0x92, 0x01], &Type::list(Type::Number)).is_err());
    assert!(msgpack::decode(&[0x01, 0x02], &Type::Number).is_err());
    assert!(msgpack::decode(&[], &Type::Number).is_err());
    assert!(msgpack::decode(&[0x92, 0xc3, 0xc3], &Type::Dynamic).is_err());
    let err = msgpack::decode(
        &[0x81, 0xa1, b'a', 0xc3],
        &Type::object([("a", Type::String)]),
    )
    .unwrap_err();
    assert!(err.to_string().contains(".a"), "{err}");
}

#[test]
fn dynamic_value_helpers() {
    let ty = Type::object([("name", Type::String)]);
    let v = Value::object([("name", Value::string("n"))]);
    let dv = encode_dynamic_value(&v, &ty).unwrap();
    assert!(dv.json.is_empty());
    assert_eq!(decode_dynamic_value(&dv, &ty).unwrap(), v);
    let as_json = crate::tfplugin6::DynamicValue {
        msgpack: vec![],
        json: br#"{"name":"n"}"#.to_vec(),
    };
    assert_eq!(decode_dynamic_value(&as_json, &ty).unwrap(), v);
    assert_eq!(
        decode_dynamic_value(&Default::default(), &ty),
        Err(CtyError::EmptyDynamicValue)
    );
    assert_eq!(
        decode_optional_dynamic_value(None, &ty).unwrap(),
        Value::Null
    );
}

/// The encoder writes msgpack itself; it must pick the same (most compact)
/// forms `rmpv` writes, at every size boundary.
#[test]
fn encoder_writes_the_forms_rmpv_writes() {
    use rmpv::Value as Mp;
    let canonical = |mp: Mp| {
        let mut out = Vec::new();
        rmpv::encode::write_value(&mut out, &mp).unwrap();
        out
    };
    for n in [
        0i64,
        1,
        127,
        128,
        255,
        256,
        65535,
        65536,
        u32::MAX as i64,
        u32::MAX as i64 + 1,
        i64::MAX,
        -1,
        -32,
        -33,
        -128,
        -129,
        -32768,
        -32769,
        i32::MIN as i64,
        i32::MIN as i64 - 1,
        i64::MIN,
    ] {
        assert_eq!(
            msgpack::encode(&Value::from(n), &Type::Number).unwrap(),
            canonical(Mp::from(n)),
            "{n}"
        );
    }
    for len in [0usize, 31, 32, 255, 256, 65535, 65536] {
        let s = "x".repeat(len);
        assert_eq!(
            msgpack::encode(&Value::string(&s), &Type::String).unwrap(),
            canonical(Mp::from(s.as_str())),
            "string of {len}"
        );
    }
    for len in [0usize, 15, 16, 65535, 65536] {
        let list = Value::List(vec![Value::Bool(true); len]);
        assert_eq!(
            msgpack::encode(&list, &Type::list(Type::Bool)).unwrap(),
            canonical(Mp::Array(vec![Mp::Boolean(true); len])),
            "list of {len}"
        );
        let attrs: Vec<(String, Type)> =
            (0..len).map(|i| (format!("a{i:05}"), Type::Bool)).collect();
        let obj = Value::object(attrs.iter().map(|(k, _)| (k.clone(), Value::Null)));
        let want = Mp::Map(
            attrs
                .iter()
                .map(|(k, _)| (Mp::from(k.as_str()), Mp::Nil))
                .collect(),
        );
        assert_eq!(
            msgpack::encode(&obj, &Type::object(attrs)).unwrap(),
            canonical(want),
            "object of {len}"
        );
    }
    let ty = Type::list(Type::String);
    let dynamic = Value::dynamic(ty.clone(), Value::List(vec![Value::string("a")]));
    assert_eq!(
        msgpack::encode(&dynamic, &Type::Dynamic).unwrap(),
        canonical(Mp::Array(vec![
            Mp::Binary(ty.to_json_bytes()),
            Mp::Array(vec![Mp::from("a")])
        ]))
    );
    let (v, ty) = all_types_value();
    assert_eq!(
        msgpack::decode(&msgpack::encode(&v, &ty).unwrap(), &ty).unwrap(),
        v
    );
}

/// Other encoders may use wider forms than needed; all of them decode.
#[test]
fn decoder_accepts_wide_forms() {
    // str8 / str16 / str32 "ab"
    for bytes in [
        vec![0xd9, 2, b'a', b'b'],
        vec![0xda, 0, 2, b'a', b'b'],
        vec![0xdb, 0, 0, 0, 2, b'a', b'b'],
    ] {
        assert_eq!(
            msgpack::decode(&bytes, &Type::String).unwrap(),
            Value::string("ab")
        );
    }
    // 7 as uint8..uint64 and int8..int64
    for bytes in [
        vec![0xcc, 7],
        vec![0xcd, 0, 7],
        vec![0xce, 0, 0, 0, 7],
        vec![0xcf, 0, 0, 0, 0, 0, 0, 0, 7],
        vec![0xd0, 7],
        vec![0xd1, 0, 7],
        vec![0xd2, 0, 0, 0, 7],
        vec![0xd3, 0, 0, 0, 0, 0, 0, 0, 7],
    ] {
        assert_eq!(msgpack::decode(&bytes, &Type::Number).unwrap(), num("7"));
    }
    assert_eq!(
        msgpack::decode(
            &[0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            &Type::Number
        )
        .unwrap(),
        num("18446744073709551615")
    );
    assert_eq!(
        msgpack::decode(&[0xd0, 0xe0], &Type::Number).unwrap(),
        num("-32")
    );
    // array16 / array32 and map16 / map32
    let ty = Type::list(Type::Bool);
    let want = Value::List(vec![Value::Bool(true)]);
    assert_eq!(msgpack::decode(&[0xdc, 0, 1, 0xc3], &ty).unwrap(), want);
    assert_eq!(
        msgpack::decode(&[0xdd, 0, 0, 0, 1, 0xc3], &ty).unwrap(),
        want
    );
    let ty = Type::object([("a", Type::Bool)]);
    let want = Value::object([("a", Value::Bool(false))]);
    assert_eq!(
        msgpack::decode(&[0xde, 0, 1, 0xa1, b'a', 0xc2], &ty).unwrap(),
        want
    );
    assert_eq!(
        msgpack::decode(&[0xdf, 0, 0, 0, 1, 0xa1, b'a', 0xc2], &ty).unwrap(),
        want
    );
    // missing attributes are null; bin8 type in a dynamic pair
    assert_eq!(
        msgpack::decode(&[0x80], &ty).unwrap(),
        Value::object([("a", Value::Null)])
    );
    let mut dynamic = vec![0x92, 0xc4, 8];
    dynamic.extend_from_slice(b"\"string\"");
    dynamic.extend_from_slice(&[0xa1, b'x']);
    assert_eq!(
        msgpack::decode(&dynamic, &Type::Dynamic).unwrap(),
        Value::dynamic(Type::String, Value::string("x"))
    );
}

#[test]
fn decoder_rejects_truncation_and_bad_lengths_without_panicking() {
    let (v, ty) = all_types_value();
    let bytes = msgpack::encode(&v, &ty).unwrap();
    for end in 0..bytes.len() {
        assert!(msgpack::decode(&bytes[..end], &ty).is_err(), "prefix {end}");
    }
    // a huge announced length with no elements behind it
    assert!(msgpack::decode(&[0xdd, 0xff, 0xff, 0xff, 0xff], &Type::list(Type::Bool)).is_err());
    assert!(msgpack::decode(&[0xdb, 0xff, 0xff, 0xff, 0xff], &Type::String).is_err());
    assert!(msgpack::decode(&[0xc1], &Type::String).is_err());
    // error paths name the attribute and the index
    let ty = Type::object([("outer", Type::list(Type::object([("x", Type::Bool)])))]);
    let err = msgpack::decode(
        &[
            0x81, 0xa5, b'o', b'u', b't', b'e', b'r', 0x91, 0x81, 0xa1, b'x', 0x01,
        ],
        &ty,
    )
    .unwrap_err();
    assert!(err.to_string().contains(".outer[0].x"), "{err}");
}
