//! The app as the phones know it (`[app_links]`): what the server's
//! `/.well-known/` files vouch for (`routes::well_known`), checked when the
//! settings load.

use serde::Deserialize;

/// The app as the phones know it (`[app_links]` in the settings file).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AppLinks {
    /// The Android package, e.g. `pl.legitka.app`.
    pub android_package: Option<String>,
    /// SHA-256 fingerprints of the certificates the Android app is signed
    /// with (Play App Signing's and the upload key's), `AA:BB:…`.
    #[serde(default)]
    pub android_sha256_cert_fingerprints: Vec<String>,
    /// `TEAMID.bundle-id` of the iOS app, e.g. `ABCDE12345.pl.legitka.app`.
    #[serde(default)]
    pub apple_app_ids: Vec<String>,
}

impl AppLinks {
    /// Checks every value, so a typo fails at start rather than on phones
    /// that then quietly open the browser.
    pub fn check(self) -> anyhow::Result<Self> {
        let android = self.android_package.is_some();
        let fingerprints = !self.android_sha256_cert_fingerprints.is_empty();
        anyhow::ensure!(
            android == fingerprints,
            "app_links: android_package and android_sha256_cert_fingerprints go together"
        );
        if let Some(package) = &self.android_package {
            let ok = package.split('.').count() >= 2
                && package.split('.').all(|part| {
                    part.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                        && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                });
            anyhow::ensure!(
                ok,
                "app_links: android_package {package:?} is not a package name"
            );
        }
        for f in &self.android_sha256_cert_fingerprints {
            let ok = f.len() == 95
                && f.split(':').count() == 32
                && f.split(':')
                    .all(|b| b.len() == 2 && b.bytes().all(|c| c.is_ascii_hexdigit()));
            anyhow::ensure!(
                ok,
                "app_links: {f:?} is not a SHA-256 fingerprint (32 hex bytes, AA:BB:…)"
            );
        }
        for id in &self.apple_app_ids {
            let ok = id.split_once('.').is_some_and(|(team, bundle)| {
                team.len() == 10
                    && team
                        .bytes()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
                    && !bundle.is_empty()
                    && bundle
                        .bytes()
                        .all(|c| c.is_ascii_alphanumeric() || c == b'.' || c == b'-')
            });
            anyhow::ensure!(
                ok,
                "app_links: {id:?} is not TEAMID.bundle-id (a 10-character team id)"
            );
        }
        anyhow::ensure!(
            android || !self.apple_app_ids.is_empty(),
            "app_links: name the Android app, the iOS app, or both"
        );
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typo_in_the_settings_fails_at_start() {
        let fingerprint = vec!["AB:".repeat(31) + "CD"];
        let android = AppLinks {
            android_package: Some("pl.legitka.app".into()),
            android_sha256_cert_fingerprints: fingerprint.clone(),
            apple_app_ids: vec![],
        };
        assert!(android.clone().check().is_ok());
        let apple = AppLinks {
            apple_app_ids: vec!["ABCDE12345.pl.legitka.app".into()],
            ..AppLinks::default()
        };
        assert!(apple.clone().check().is_ok());
        for wrong in [
            AppLinks::default(),
            AppLinks {
                android_sha256_cert_fingerprints: vec![],
                ..android.clone()
            },
            AppLinks {
                android_package: None,
                ..android.clone()
            },
            AppLinks {
                android_package: Some("legitka".into()),
                ..android.clone()
            },
            AppLinks {
                android_package: Some("pl.1legitka".into()),
                ..android.clone()
            },
            AppLinks {
                android_sha256_cert_fingerprints: vec!["AB".repeat(32)],
                ..android.clone()
            },
            AppLinks {
                android_sha256_cert_fingerprints: vec!["ZZ:".repeat(31) + "CD"],
                ..android.clone()
            },
            AppLinks {
                apple_app_ids: vec!["pl.legitka.app".into()],
                ..AppLinks::default()
            },
            AppLinks {
                apple_app_ids: vec!["abcde12345.pl.legitka.app".into()],
                ..AppLinks::default()
            },
        ] {
            assert!(wrong.clone().check().is_err(), "{wrong:?}");
        }
    }
}
