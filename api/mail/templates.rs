//! The account mails. Each has a plain-text and an HTML part with the same words and one link;
//! everything user-supplied is escaped in the HTML part.

use html_escape::encode_text;

use super::OutgoingMail;
use crate::accounts::model::UserRow;
use crate::db::UserId;

/// A mail that asks the reader to follow one link.
struct LinkMail<'a> {
    /// `X-Roundtable-Kind` (see `notifications::kinds`).
    kind: &'static str,
    subject: &'a str,
    lead: &'a str,
    action: &'a str,
    link: &'a str,
    footer: &'a str,
}

/// Who a mail goes to: an account, or an address that may not have one yet.
pub struct Recipient<'a> {
    pub user_id: Option<&'a UserId>,
    pub address: &'a str,
    pub name: Option<&'a str>,
}

impl<'a> From<&'a UserRow> for Recipient<'a> {
    fn from(user: &'a UserRow) -> Self {
        Self { user_id: Some(&user.id), address: &user.email, name: Some(&user.display_name) }
    }
}

fn render(to: Recipient<'_>, m: LinkMail<'_>) -> OutgoingMail {
    let greeting = match to.name {
        Some(name) => format!("Hello {name},"),
        None => "Hello,".to_string(),
    };
    let text = format!("{greeting}\n\n{}\n\n{}: {}\n\n{}\n\n-- Roundtable\n", m.lead, m.action, m.link, m.footer);
    let html = format!(
        "<!doctype html><html><body style=\"font-family:sans-serif;line-height:1.5\">\
         <p>{}</p><p>{}</p><p><a href=\"{}\">{}</a></p><p style=\"color:#555\">{}</p>\
         <p>&mdash; Roundtable</p></body></html>",
        encode_text(&greeting),
        encode_text(m.lead),
        html_escape::encode_double_quoted_attribute(m.link),
        encode_text(m.action),
        encode_text(m.footer),
    );
    OutgoingMail {
        kind: m.kind,
        user_id: to.user_id.cloned(),
        to: to.address.to_string(),
        subject: m.subject.to_string(),
        text,
        html,
        list: None,
        expires_at: None,
    }
}

/// Links open the web app, which redeems the secret with a POST: a mail scanner that follows
/// links (a GET) cannot use them up. The secret rides in the fragment, which browsers never send
/// to servers, so it stays out of access logs.
pub fn link(base_url: &str, path: &str, secret: &str) -> String {
    format!("{base_url}/app/{path}#token={secret}")
}

pub fn verify_email(user: &UserRow, link: &str) -> OutgoingMail {
    render(
        user.into(),
        LinkMail {
            kind: "email_verification",
            subject: "Confirm your email address for Roundtable",
            lead: "Welcome to Roundtable. Please confirm that this is your email address.",
            action: "Confirm my address",
            link,
            footer: "The link works for 48 hours. If you did not sign up, ignore this mail.",
        },
    )
}

pub fn magic_link(user: &UserRow, link: &str) -> OutgoingMail {
    render(
        user.into(),
        LinkMail {
            kind: "sign_in_link",
            subject: "Your Roundtable sign-in link",
            lead: "Someone asked to sign in to Roundtable with this address.",
            action: "Sign in",
            link,
            footer: "The link works once, for 15 minutes. If it was not you, ignore this mail.",
        },
    )
}

pub fn password_reset(user: &UserRow, link: &str) -> OutgoingMail {
    render(
        user.into(),
        LinkMail {
            kind: "password_reset",
            subject: "Reset your Roundtable password",
            lead: "Someone asked to reset the password of your Roundtable account.",
            action: "Choose a new password",
            link,
            footer: "The link works once, for 15 minutes. If it was not you, ignore this mail; your password stays as it is.",
        },
    )
}

/// After a password reset or change: what happened, and that every other sign-in and every
/// personal access token was ended. The link leads to a new reset, in case it was not them.
pub fn password_changed(user: &UserRow, reset_link: &str) -> OutgoingMail {
    render(
        user.into(),
        LinkMail {
            kind: "password_changed",
            subject: "Your Roundtable password was changed",
            lead: "The password of your Roundtable account was just changed. Every other sign-in and \
                   every personal access token of your account was ended: sign in again on your other \
                   devices, and create new tokens for the programs that used them.",
            action: "If it was not you, reset your password",
            link: reset_link,
            footer: "If it was you, there is nothing more to do.",
        },
    )
}

/// An invitation to a cohort, to an address that may not have an account yet.
pub fn invitation(address: &str, inviter: &str, cohort_name: &str, link: &str) -> OutgoingMail {
    let subject = format!("{inviter} invited you to {cohort_name} on Roundtable");
    let lead = format!(
        "{inviter} invited you to join the peer-learning cohort \"{cohort_name}\" on Roundtable. \
         Sign in, or create an account with this address, to accept."
    );
    render(
        Recipient { user_id: None, address, name: None },
        LinkMail {
            kind: "invitation",
            subject: &subject,
            lead: &lead,
            action: "Accept the invitation",
            link,
            footer: "The invitation works for 14 days. If you do not want to join, ignore this mail.",
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str) -> UserRow {
        let t = chrono::DateTime::from_timestamp(0, 0).unwrap().naive_utc();
        UserRow {
            id: crate::db::UserId::new(),
            email: "ada@example.com".into(),
            email_lower: "ada@example.com".into(),
            password_hash: String::new(),
            display_name: name.into(),
            time_zone: crate::db::TimeZone::UTC,
            locale: "en".into(),
            email_verified_at: None,
            created_at: t,
            updated_at: t,
        }
    }

    #[test]
    fn both_parts_carry_the_link_and_html_is_escaped() {
        let link = link("https://rt.example", "magic-link", "rt_ln_abc");
        assert_eq!(link, "https://rt.example/app/magic-link#token=rt_ln_abc");
        let mail = magic_link(&user("<script>x</script>"), &link);
        assert!(mail.text.contains(&link));
        assert!(mail.html.contains("href=\"https://rt.example/app/magic-link#token=rt_ln_abc\""));
        assert!(!mail.html.contains("<script>"));
        assert!(mail.html.contains("&lt;script&gt;"));
        assert_eq!(mail.to, "ada@example.com");
    }

    #[test]
    fn invitations_greet_an_address_and_escape_names() {
        let mail =
            invitation("new@example.com", "Ada & Co", "<b>Cohort</b>", "https://rt.example/app/invitation#token=x");
        assert_eq!(mail.user_id, None);
        assert!(mail.text.starts_with("Hello,\n"));
        assert!(mail.subject.contains("Ada & Co invited you"));
        assert!(mail.html.contains("&lt;b&gt;Cohort&lt;/b&gt;") && mail.html.contains("Ada &amp; Co"));
    }
}
