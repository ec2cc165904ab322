//! PESEL, the Polish national identification number. Parsed, never just
//! validated: a `Pesel` always has 11 digits, a valid birth date and a
//! correct check digit. It never prints in full.

use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct Pesel(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeselError {
    #[error("PESEL must be 11 digits")]
    Format,
    #[error("PESEL has an impossible birth date")]
    BirthDate,
    #[error("PESEL check digit does not match")]
    Checksum,
}

const WEIGHTS: [u32; 10] = [1, 3, 7, 9, 1, 3, 7, 9, 1, 3];

impl Pesel {
    pub fn parse(s: &str) -> Result<Self, PeselError> {
        let s = s.trim();
        if s.len() != 11 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PeselError::Format);
        }
        let d: Vec<u32> = s.bytes().map(|b| u32::from(b - b'0')).collect();
        birth_date(&d)?;
        let sum: u32 = WEIGHTS.iter().zip(&d).map(|(w, x)| w * x).sum();
        if (10 - sum % 10) % 10 != d[10] {
            return Err(PeselError::Checksum);
        }
        Ok(Self(s.to_owned()))
    }

    /// Completes the first ten digits with their check digit (demo data, tests).
    pub fn with_check_digit(first_ten: &str) -> Result<Self, PeselError> {
        let sum: u32 = WEIGHTS
            .iter()
            .zip(first_ten.bytes())
            .map(|(w, b)| w * u32::from(b.wrapping_sub(b'0')))
            .sum();
        Self::parse(&format!("{first_ten}{}", (10 - sum % 10) % 10))
    }

    /// The birth date it carries (what the card shows).
    pub fn birth_date(&self) -> time::Date {
        let d: Vec<u32> = self.0.bytes().map(|b| u32::from(b - b'0')).collect();
        birth_date(&d).expect("a parsed PESEL has a valid birth date")
    }

    /// The full number, for storage and for the issuer. Never for logs.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// The birth date the digits carry (`d`: the 11 digits as numbers).
fn birth_date(d: &[u32]) -> Result<time::Date, PeselError> {
    // Months carry the century: +80 (1800s), +0, +20, +40, +60 (2200s).
    let mm = d[2] * 10 + d[3];
    let (year_base, month) = match mm {
        81..=92 => (1800, mm - 80),
        1..=12 => (1900, mm),
        21..=32 => (2000, mm - 20),
        41..=52 => (2100, mm - 40),
        61..=72 => (2200, mm - 60),
        _ => return Err(PeselError::BirthDate),
    };
    let year = i32::try_from(year_base + d[0] * 10 + d[1]).map_err(|_| PeselError::BirthDate)?;
    let month = u8::try_from(month)
        .ok()
        .and_then(|m| time::Month::try_from(m).ok())
        .ok_or(PeselError::BirthDate)?;
    let day = u8::try_from(d[4] * 10 + d[5]).map_err(|_| PeselError::BirthDate)?;
    time::Date::from_calendar_date(year, month, day).map_err(|_| PeselError::BirthDate)
}

/// Only the last two digits show, as on a receipt.
impl fmt::Debug for Pesel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pesel({})", masked(&self.0))
    }
}

/// A stored PESEL as people may see it: all but the last two digits hidden.
pub fn masked(pesel: &str) -> String {
    let pesel = pesel.trim();
    let tail = pesel.get(pesel.len().saturating_sub(2)..).unwrap_or("");
    format!("*********{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_table() {
        for (input, want) in [
            ("44051401359", Ok(())),                    // 1944-05-14, the classic example
            ("02270803624", Ok(())),                    // 2002-07-08
            (" 02270803624 ", Ok(())),                  // surrounding space is fine
            ("44051401358", Err(PeselError::Checksum)), // one digit off
            ("02270803629", Err(PeselError::Checksum)),
            ("4405140135", Err(PeselError::Format)),
            ("440514013590", Err(PeselError::Format)),
            ("4405140135a", Err(PeselError::Format)),
            ("", Err(PeselError::Format)),
            ("44130101352", Err(PeselError::BirthDate)), // month 13
            ("01023012345", Err(PeselError::BirthDate)), // 30 February
            ("00000000000", Err(PeselError::BirthDate)),
        ] {
            assert_eq!(Pesel::parse(input).map(|_| ()), want, "{input:?}");
        }
    }

    #[test]
    fn leap_days() {
        // 2000-02-29 exists (month 22 = February in the 2000s).
        assert!(Pesel::with_check_digit("0022290123").is_ok());
        // 1900-02-29 does not.
        assert!(
            (0..10).all(|c| Pesel::parse(&format!("0002290123{c}")) == Err(PeselError::BirthDate))
        );
    }

    #[test]
    fn debug_hides_the_number() {
        let p = Pesel::parse("44051401359").unwrap();
        assert_eq!(format!("{p:?}"), "Pesel(*********59)");
        assert_eq!(p.expose(), "44051401359");
    }
}
