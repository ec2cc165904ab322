//! A real OpenLDAP server (Debian's `slapd`, installed by `scripts/install`)
//! on loopback for one test: its own configuration and data in a temporary
//! directory, StartTLS with a certificate from a test CA, the password
//! policy overlay (lockout), a service account for searches, and students.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const SUFFIX: &str = "dc=uczelnia,dc=example";
pub const STUDENTS: &str = "ou=students,dc=uczelnia,dc=example";
pub const SERVICE_DN: &str = "cn=legitka,ou=services,dc=uczelnia,dc=example";
pub const SERVICE_PASSWORD: &str = "haslo-uslugi";

pub struct Slapd {
    child: Option<Child>,
    pub port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Slapd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A student in the directory: uid, given name, surname, password.
pub struct Person<'a> {
    pub uid: &'a str,
    pub given: &'a str,
    pub sn: &'a str,
    pub password: &'a str,
    /// Locked by the password policy.
    pub locked: bool,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn run(command: &mut Command) {
    let out = command
        .output()
        .expect("slapadd (scripts/install installs slapd)");
    assert!(
        out.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Slapd {
    pub fn start(people: &[Person<'_>]) -> Self {
        Self::start_with(people, "")
    }

    /// As [`Slapd::start`], with more entries (LDIF) in the directory.
    pub fn start_with(people: &[Person<'_>], more: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("slapd.d")).unwrap();
        std::fs::create_dir_all(d.join("data")).unwrap();
        Self::write_certificates(d);
        std::fs::write(d.join("config.ldif"), config(d)).unwrap();
        std::fs::write(d.join("data.ldif"), data(people) + more).unwrap();
        let slapadd = |n: &str, file: &str| {
            run(Command::new("slapadd")
                .args(["-n", n, "-F"])
                .arg(d.join("slapd.d"))
                .arg("-l")
                .arg(d.join(file)));
        };
        slapadd("0", "config.ldif");
        slapadd("1", "data.ldif");
        let mut slapd = Self {
            child: None,
            port: free_port(),
            dir,
        };
        slapd.run();
        slapd
    }

    /// Starts (or starts again) the server on its port.
    pub fn run(&mut self) {
        let d = self.dir.path();
        let child = Command::new("/usr/sbin/slapd")
            .arg("-h")
            .arg(format!("ldap://127.0.0.1:{}/", self.port))
            .arg("-F")
            .arg(d.join("slapd.d"))
            .args(["-d", "0"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("slapd (scripts/install installs it)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "slapd did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The server goes down (its port closed).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn url(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.port)
    }

    /// The test CA that signed the server's certificate.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// The server's settings for this directory (StartTLS trusting the test
    /// CA, the service account searching), reached at `url`.
    pub fn settings_at(&self, url: String) -> legitka_server::identity::ldap::LdapSettings {
        legitka_server::identity::ldap::LdapSettings {
            url,
            starttls: true,
            ca_file: Some(self.ca_file()),
            base_dn: STUDENTS.to_owned(),
            user_filter: "(&(objectClass=inetOrgPerson)(uid={username}))".to_owned(),
            username_attribute: "uid".to_owned(),
            bind_dn: Some(SERVICE_DN.to_owned()),
            bind_password_file: Some(self.service_password_file()),
            timeout_secs: 1,
            sync: None,
        }
    }

    /// A file holding the service account's password.
    pub fn service_password_file(&self) -> PathBuf {
        let file = self.dir.path().join("service-password");
        std::fs::write(&file, format!("{SERVICE_PASSWORD}\n")).unwrap();
        file
    }

    fn write_certificates(d: &Path) {
        use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
        let key = KeyPair::generate().unwrap();
        let cert = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap()
            .signed_by(&key, &ca)
            .unwrap();
        std::fs::write(d.join("ca.pem"), ca.pem()).unwrap();
        std::fs::write(d.join("server.pem"), cert.pem()).unwrap();
        std::fs::write(d.join("server.key"), key.serialize_pem()).unwrap();
    }
}

fn config(d: &Path) -> String {
    let d = d.display();
    format!(
        "dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: {d}/slapd.pid
olcTLSCACertificateFile: {d}/ca.pem
olcTLSCertificateFile: {d}/server.pem
olcTLSCertificateKeyFile: {d}/server.key

dn: cn=module{{0}},cn=config
objectClass: olcModuleList
cn: module{{0}}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb
olcModuleLoad: ppolicy

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif
include: file:///etc/ldap/schema/cosine.ldif
include: file:///etc/ldap/schema/inetorgperson.ldif

dn: olcDatabase={{-1}}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {{-1}}frontend

dn: olcDatabase={{0}}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {{0}}config
olcAccess: {{0}}to * by * none

dn: olcDatabase={{1}}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {{1}}mdb
olcSuffix: {SUFFIX}
olcDbDirectory: {d}/data
olcDbMaxSize: 16777216
olcRootDN: cn=admin,{SUFFIX}
olcRootPW: haslo-admina
olcAccess: {{0}}to attrs=userPassword by anonymous auth by * none
olcAccess: {{1}}to * by dn.exact=\"{SERVICE_DN}\" read by self read by * none

dn: olcOverlay={{0}}ppolicy,olcDatabase={{1}}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcPPolicyConfig
olcOverlay: {{0}}ppolicy
olcPPolicyDefault: cn=default,ou=policies,{SUFFIX}
olcPPolicyUseLockout: TRUE
"
    )
}

fn data(people: &[Person<'_>]) -> String {
    let mut ldif = format!(
        "dn: {SUFFIX}
objectClass: dcObject
objectClass: organization
o: Uczelnia
dc: uczelnia

dn: {STUDENTS}
objectClass: organizationalUnit
ou: students

dn: ou=services,{SUFFIX}
objectClass: organizationalUnit
ou: services

dn: ou=policies,{SUFFIX}
objectClass: organizationalUnit
ou: policies

dn: cn=default,ou=policies,{SUFFIX}
objectClass: device
objectClass: pwdPolicy
cn: default
pwdAttribute: userPassword
pwdLockout: TRUE
pwdMaxFailure: 5

dn: {SERVICE_DN}
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: legitka
userPassword: {SERVICE_PASSWORD}
"
    );
    for p in people {
        ldif.push_str(&format!(
            "
dn: uid={uid},{STUDENTS}
objectClass: inetOrgPerson
uid: {uid}
cn: {given} {sn}
givenName: {given}
sn: {sn}
userPassword: {password}
",
            uid = p.uid,
            given = p.given,
            sn = p.sn,
            password = p.password
        ));
        if p.locked {
            ldif.push_str("pwdAccountLockedTime: 000001010000Z\n");
        }
    }
    ldif
}
