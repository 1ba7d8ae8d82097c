//! Arbitrary-precision cty numbers.
//!
//! cty numbers are exact decimals (Terraform parses `0.1` as one tenth, and
//! integers beyond 64 bits are common in big-ID APIs). [`Number`] stores a
//! normalised `mantissa × 10^exponent` with a big unsigned mantissa, plus the
//! two infinities cty allows. Hand-written: the decimal text rules and the
//! "exactly representable as float64" test are protocol-specific.

use std::fmt;
use std::str::FromStr;

use num_bigint::BigUint;
use num_traits::{ToPrimitive, Zero};

use super::CtyError;

/// Largest decimal exponent (either sign) and mantissa length accepted when
/// parsing, to keep hostile input such as `1e999999999` from allocating.
const MAX_DIGITS: usize = 4096;

/// An exact cty number.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Number(Repr);

#[derive(Clone, PartialEq, Eq, Hash)]
enum Repr {
    /// `(-1)^neg × mant × 10^exp`, normalised: `mant` has no trailing decimal
    /// zero, and zero is `neg = false, mant = 0, exp = 0`.
    Finite {
        neg: bool,
        mant: BigUint,
        exp: i64,
    },
    PosInf,
    NegInf,
}

impl Number {
    /// Zero.
    pub fn zero() -> Self {
        Number(Repr::Finite {
            neg: false,
            mant: BigUint::zero(),
            exp: 0,
        })
    }

    /// Positive infinity (cty allows it; JSON cannot carry it).
    pub fn pos_infinity() -> Self {
        Number(Repr::PosInf)
    }

    /// Negative infinity.
    pub fn neg_infinity() -> Self {
        Number(Repr::NegInf)
    }

    fn finite(neg: bool, mant: BigUint, exp: i64) -> Self {
        let (mut mant, mut exp) = (mant, exp);
        if mant.is_zero() {
            return Self::zero();
        }
        let ten = BigUint::from(10u32);
        loop {
            let (q, r) = (&mant / &ten, &mant % &ten);
            if !r.is_zero() {
                break;
            }
            mant = q;
            exp += 1;
        }
        Number(Repr::Finite { neg, mant, exp })
    }

    /// Exact conversion of a float64. NaN is rejected.
    pub fn from_f64(f: f64) -> Result<Self, CtyError> {
        if f.is_nan() {
            return Err(CtyError::InvalidNumber("NaN".into()));
        }
        if f.is_infinite() {
            return Ok(if f > 0.0 {
                Self::pos_infinity()
            } else {
                Self::neg_infinity()
            });
        }
        if f == 0.0 {
            return Ok(Self::zero());
        }
        let bits = f.to_bits();
        let neg = bits >> 63 == 1;
        let raw_exp = ((bits >> 52) & 0x7ff) as i64;
        let frac = bits & ((1u64 << 52) - 1);
        // f = m × 2^e exactly.
        let (m, e) = if raw_exp == 0 {
            (frac, -1074i64)
        } else {
            (frac | (1u64 << 52), raw_exp - 1075)
        };
        let mant = BigUint::from(m);
        Ok(if e >= 0 {
            Self::finite(neg, mant << (e as usize), 0)
        } else {
            // m × 2^e = m × 5^-e × 10^e
            let five = BigUint::from(5u32).pow((-e) as u32);
            Self::finite(neg, mant * five, e)
        })
    }

    /// Parses decimal text: optional sign, digits, optional fraction and
    /// optional exponent (`-12.5e3`). This covers JSON numbers and cty's
    /// msgpack string form.
    pub fn parse(s: &str) -> Result<Self, CtyError> {
        let bad = || CtyError::InvalidNumber(truncate(s));
        let b = s.as_bytes();
        let mut i = 0;
        let mut neg = false;
        if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
            neg = b[i] == b'-';
            i += 1;
        }
        let mut digits = String::new();
        let mut seen_digit = false;
        while i < b.len() && b[i].is_ascii_digit() {
            digits.push(b[i] as char);
            seen_digit = true;
            i += 1;
        }
        let mut frac_len: i64 = 0;
        if i < b.len() && b[i] == b'.' {
            i += 1;
            while i < b.len() && b[i].is_ascii_digit() {
                digits.push(b[i] as char);
                frac_len += 1;
                seen_digit = true;
                i += 1;
            }
        }
        if !seen_digit {
            return Err(bad());
        }
        let mut exp: i64 = 0;
        if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
            i += 1;
            let mut eneg = false;
            if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
                eneg = b[i] == b'-';
                i += 1;
            }
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if start == i || i - start > 9 {
                return Err(bad());
            }
            exp = s[start..i].parse::<i64>().map_err(|_| bad())?;
            if eneg {
                exp = -exp;
            }
        }
        if i != b.len() {
            return Err(bad());
        }
        let digits = digits.trim_start_matches('0');
        if digits.is_empty() {
            return Ok(Self::zero());
        }
        let exp = exp - frac_len;
        let magnitude = exp + digits.len() as i64;
        if digits.len() > MAX_DIGITS
            || exp.abs() > MAX_DIGITS as i64
            || magnitude.abs() > MAX_DIGITS as i64
        {
            return Err(CtyError::InvalidNumber(format!(
                "{} (too many digits)",
                truncate(s)
            )));
        }
        let mant = BigUint::parse_bytes(digits.as_bytes(), 10).ok_or_else(bad)?;
        Ok(Self::finite(neg, mant, exp))
    }

    /// True for finite numbers without a fractional part.
    pub fn is_integer(&self) -> bool {
        matches!(&self.0, Repr::Finite { exp, .. } if *exp >= 0)
    }

    /// True for the two infinities.
    pub fn is_infinite(&self) -> bool {
        matches!(self.0, Repr::PosInf | Repr::NegInf)
    }

    fn integer_magnitude(&self) -> Option<(bool, BigUint)> {
        match &self.0 {
            Repr::Finite { neg, mant, exp } if *exp >= 0 && *exp <= 40 => {
                Some((*neg, mant * BigUint::from(10u32).pow(*exp as u32)))
            }
            _ => None,
        }
    }

    /// The value as `i64` if it is an integer in range.
    pub fn to_i64(&self) -> Option<i64> {
        let (neg, mag) = self.integer_magnitude()?;
        let m = mag.to_u64()?;
        if neg {
            if m <= i64::MAX as u64 + 1 {
                Some((m as i128).wrapping_neg() as i64)
            } else {
                None
            }
        } else {
            i64::try_from(m).ok()
        }
    }

    /// The value as `u64` if it is a non-negative integer in range.
    pub fn to_u64(&self) -> Option<u64> {
        let (neg, mag) = self.integer_magnitude()?;
        if neg && !mag.is_zero() {
            return None;
        }
        mag.to_u64()
    }

    /// The value as `f64` only if that conversion is exact.
    pub fn to_f64_exact(&self) -> Option<f64> {
        match &self.0 {
            Repr::PosInf => Some(f64::INFINITY),
            Repr::NegInf => Some(f64::NEG_INFINITY),
            Repr::Finite { neg, mant, exp } => {
                let text = format!("{}{}e{}", if *neg { "-" } else { "" }, mant, exp);
                let f: f64 = text.parse().ok()?;
                if !f.is_finite() {
                    return None;
                }
                match Self::from_f64(f) {
                    Ok(back) if back == *self => Some(f),
                    _ => None,
                }
            }
        }
    }

    /// The nearest `f64` (may round; saturates to infinity).
    pub fn to_f64_lossy(&self) -> f64 {
        match &self.0 {
            Repr::PosInf => f64::INFINITY,
            Repr::NegInf => f64::NEG_INFINITY,
            Repr::Finite { neg, mant, exp } => {
                format!("{}{}e{}", if *neg { "-" } else { "" }, mant, exp)
                    .parse()
                    .unwrap_or(f64::NAN)
            }
        }
    }
}

fn truncate(s: &str) -> String {
    if s.len() <= 64 {
        s.to_string()
    } else {
        let mut end = 64;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &s[..end])
    }
}

/// Plain positional decimal (Go's `Text('f', -1)` shape): `-12.5`, `1000`,
/// `0.001`; infinities print as `+Inf` / `-Inf`.
impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::PosInf => f.write_str("+Inf"),
            Repr::NegInf => f.write_str("-Inf"),
            Repr::Finite { neg, mant, exp } => {
                if *neg {
                    f.write_str("-")?;
                }
                let digits = mant.to_string();
                if *exp >= 0 {
                    f.write_str(&digits)?;
                    for _ in 0..*exp {
                        f.write_str("0")?;
                    }
                    Ok(())
                } else {
                    let frac = (-*exp) as usize;
                    if digits.len() > frac {
                        let (int, dec) = digits.split_at(digits.len() - frac);
                        write!(f, "{int}.{dec}")
                    } else {
                        f.write_str("0.")?;
                        for _ in 0..(frac - digits.len()) {
                            f.write_str("0")?;
                        }
                        f.write_str(&digits)
                    }
                }
            }
        }
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Number({self})")
    }
}

impl FromStr for Number {
    type Err = CtyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Number::parse(s)
    }
}

impl From<i64> for Number {
    fn from(v: i64) -> Self {
        Number::finite(v < 0, BigUint::from(v.unsigned_abs()), 0)
    }
}

impl From<i32> for Number {
    fn from(v: i32) -> Self {
        Number::from(i64::from(v))
    }
}

impl From<u64> for Number {
    fn from(v: u64) -> Self {
        Number::finite(false, BigUint::from(v), 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_display_are_exact() {
        for (input, shown) in [
            ("0", "0"),
            ("-0", "0"),
            ("0.1", "0.1"),
            ("-12.50", "-12.5"),
            ("1e3", "1000"),
            ("1.5E-3", "0.0015"),
            ("18446744073709551617", "18446744073709551617"),
            ("+7", "7"),
        ] {
            assert_eq!(Number::parse(input).unwrap().to_string(), shown, "{input}");
        }
        let big = Number::parse("1e400").unwrap();
        assert_eq!(big.to_string().len(), 401);
        for bad in ["", "-", ".", "1e", "0x10", "1.2.3", "NaN", "1e99999999999"] {
            assert!(Number::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn integer_conversions() {
        assert_eq!(Number::from(i64::MIN).to_i64(), Some(i64::MIN));
        assert_eq!(Number::from(u64::MAX).to_u64(), Some(u64::MAX));
        assert_eq!(Number::from(u64::MAX).to_i64(), None);
        assert_eq!(Number::parse("2.5").unwrap().to_i64(), None);
        assert_eq!(Number::parse("1e2").unwrap().to_i64(), Some(100));
    }

    #[test]
    fn float_exactness() {
        assert_eq!(Number::parse("0.5").unwrap().to_f64_exact(), Some(0.5));
        assert_eq!(Number::parse("0.1").unwrap().to_f64_exact(), None);
        let f = Number::from_f64(0.1).unwrap();
        assert_eq!(f.to_f64_exact(), Some(0.1));
        assert!(f
            .to_string()
            .starts_with("0.1000000000000000055511151231257827"));
        assert_eq!(
            Number::from_f64(2f64.powi(64)).unwrap().to_string(),
            "18446744073709551616"
        );
        assert_eq!(Number::parse("1e400").unwrap().to_f64_exact(), None);
        assert_eq!(
            Number::from_f64(f64::MIN_POSITIVE / 4.0)
                .unwrap()
                .to_f64_exact(),
            Some(f64::MIN_POSITIVE / 4.0)
        );
        assert!(Number::from_f64(f64::NAN).is_err());
    }
}
