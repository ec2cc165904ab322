//! Who may order an mLegitymacja: every check must hold. The rules and the
//! pages they come from are in `docs/rules.md` ("Who may order").

use legitka_wire::{CheckCode, EligibilityCheck};

/// A university's eligibility policy, chosen in configuration
/// (`eligibility = "els-required"` or `"statutory-2025"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::EnumString, strum::IntoStaticStr)]
#[strum(serialize_all = "kebab-case")]
pub enum Policy {
    /// What the universities' help pages say: a valid, extended plastic ELS
    /// is required, and no data changed since it was issued. The default.
    ElsRequired,
    /// Since 1 July 2025 the mLegitymacja no longer depends on the plastic
    /// ELS: first-cycle, second-cycle and long-cycle students with a PESEL.
    #[strum(serialize = "statutory-2025")]
    Statutory2025,
}

impl Policy {
    pub fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
    }

    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// The study levels the registry knows; as the import's CSV spells them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::EnumString, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum StudyLevel {
    FirstCycle,
    SecondCycle,
    LongCycle,
    Doctoral,
    Postgraduate,
}

impl StudyLevel {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
    }

    /// First-cycle, second-cycle and long-cycle master's students
    /// (`docs/rules.md`, "Who may order").
    pub fn is_eligible(self) -> bool {
        matches!(self, Self::FirstCycle | Self::SecondCycle | Self::LongCycle)
    }
}

/// What the registry knows about a student that eligibility depends on.
#[derive(Clone, Debug)]
pub struct RegistryFacts {
    pub active: bool,
    pub has_pesel: bool,
    pub has_album_number: bool,
    pub has_photo: bool,
    pub has_els: bool,
    pub els_valid_until: Option<i64>,
    pub els_issued_at: Option<i64>,
    pub data_changed_at: Option<i64>,
    pub study_level: StudyLevel,
}

impl RegistryFacts {
    /// The student's ELS, as the order's rules weigh it.
    pub fn els(&self) -> super::rules::Els {
        super::rules::Els {
            valid_until: self.els_valid_until,
            issued_at: self.els_issued_at,
        }
    }
}

pub fn evaluate(f: &RegistryFacts, policy: Policy, now_ms: i64) -> Vec<EligibilityCheck> {
    let check = |code, ok| EligibilityCheck { code, ok };
    let mut checks = vec![
        check(CheckCode::ActiveStudent, f.active),
        check(CheckCode::HasPesel, f.has_pesel),
        check(CheckCode::HasAlbumNumber, f.has_album_number),
        check(CheckCode::HasPhoto, f.has_photo),
    ];
    if policy == Policy::ElsRequired {
        let els_valid = f.has_els && f.els_valid_until.is_some_and(|until| until > now_ms);
        let unchanged = match (f.data_changed_at, f.els_issued_at) {
            (Some(changed), Some(issued)) => changed <= issued,
            (Some(_), None) => false,
            (None, _) => true,
        };
        checks.push(check(CheckCode::HasEls, f.has_els));
        checks.push(check(CheckCode::ElsValid, els_valid));
        checks.push(check(CheckCode::DataUnchangedSinceEls, unchanged));
    }
    checks.push(check(CheckCode::StudyLevel, f.study_level.is_eligible()));
    checks
}

pub fn all_ok(checks: &[EligibilityCheck]) -> bool {
    checks.iter().all(|c| c.ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    fn eligible() -> RegistryFacts {
        RegistryFacts {
            active: true,
            has_pesel: true,
            has_album_number: true,
            has_photo: true,
            has_els: true,
            els_valid_until: Some(NOW + 1),
            els_issued_at: Some(NOW - 100),
            data_changed_at: None,
            study_level: StudyLevel::FirstCycle,
        }
    }

    fn failed(f: &RegistryFacts, p: Policy) -> Vec<CheckCode> {
        evaluate(f, p, NOW)
            .into_iter()
            .filter(|c| !c.ok)
            .map(|c| c.code)
            .collect()
    }

    #[test]
    fn each_rule_fails_alone() {
        type Mutate = fn(&mut RegistryFacts);
        let table: [(Mutate, CheckCode); 9] = [
            (|f| f.active = false, CheckCode::ActiveStudent),
            (|f| f.has_pesel = false, CheckCode::HasPesel),
            (|f| f.has_album_number = false, CheckCode::HasAlbumNumber),
            (|f| f.has_photo = false, CheckCode::HasPhoto),
            (|f| f.els_valid_until = Some(NOW), CheckCode::ElsValid),
            (|f| f.els_valid_until = None, CheckCode::ElsValid),
            (
                |f| f.data_changed_at = Some(NOW - 50),
                CheckCode::DataUnchangedSinceEls,
            ),
            (
                |f| f.study_level = StudyLevel::Doctoral,
                CheckCode::StudyLevel,
            ),
            (
                |f| f.study_level = StudyLevel::Postgraduate,
                CheckCode::StudyLevel,
            ),
        ];
        assert!(failed(&eligible(), Policy::ElsRequired).is_empty());
        for (mutate, code) in table {
            let mut f = eligible();
            mutate(&mut f);
            assert_eq!(failed(&f, Policy::ElsRequired), vec![code]);
        }
    }

    #[test]
    fn no_els_means_both_els_checks_fail() {
        let mut f = eligible();
        f.has_els = false;
        assert_eq!(
            failed(&f, Policy::ElsRequired),
            vec![CheckCode::HasEls, CheckCode::ElsValid]
        );
    }

    #[test]
    fn data_changed_before_els_issue_is_fine() {
        let mut f = eligible();
        f.data_changed_at = Some(NOW - 200);
        assert!(failed(&f, Policy::ElsRequired).is_empty());
    }

    #[test]
    fn the_2025_policy_needs_no_els() {
        let mut f = eligible();
        f.has_els = false;
        f.els_valid_until = None;
        assert!(failed(&f, Policy::Statutory2025).is_empty());
        let codes: Vec<_> = evaluate(&f, Policy::Statutory2025, NOW)
            .into_iter()
            .map(|c| c.code)
            .collect();
        assert!(!codes.contains(&CheckCode::HasEls));
        f.active = false;
        assert_eq!(
            failed(&f, Policy::Statutory2025),
            vec![CheckCode::ActiveStudent]
        );
    }

    #[test]
    fn study_levels() {
        for (s, ok) in [
            ("first_cycle", true),
            ("second_cycle", true),
            ("long_cycle", true),
            ("doctoral", false),
            ("postgraduate", false),
        ] {
            assert_eq!(StudyLevel::parse(s).unwrap().is_eligible(), ok, "{s}");
        }
        assert_eq!(StudyLevel::parse("phd"), None);
        assert_eq!(StudyLevel::FirstCycle.as_str(), "first_cycle");
    }

    #[test]
    fn policies_by_their_configured_names() {
        assert_eq!(Policy::parse("els-required"), Some(Policy::ElsRequired));
        assert_eq!(Policy::parse("statutory-2025"), Some(Policy::Statutory2025));
        assert_eq!(Policy::Statutory2025.as_str(), "statutory-2025");
        assert_eq!(Policy::parse("seeds"), None);
    }
}
