//! A price alert's mail: a readable text part and the same in HTML, with the price, the change,
//! the trip, a link that opens the search, and the alert's one-click unsubscribe link.

use spontra_mail::Mail;
use spontra_store::PriceAlertMessage;

/// Escape text for HTML.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn cabin_name(cabin: &str) -> String {
    cabin.replace('_', " ")
}

/// The web app's search for the trip a message is about.
pub fn search_url(public_url: &str, m: &PriceAlertMessage) -> String {
    let mut url = format!(
        "{}/search?trip={}&origin={}&destination={}&depart={}",
        public_url.trim_end_matches('/'),
        if m.return_date.is_some() {
            "return"
        } else {
            "oneway"
        },
        m.origin,
        m.destination,
        m.departure_date
    );
    if let Some(r) = m.return_date {
        url.push_str(&format!("&return={r}"));
    }
    url.push_str(&format!("&cabin={}", m.cabin));
    url
}

/// What changed, in words: "at or under your limit of 150.00 EUR" or "down from 189.00 EUR".
fn change(m: &PriceAlertMessage) -> String {
    match (m.reason.as_str(), &m.limit, &m.previous) {
        ("below", Some(limit), Some(prev)) => format!(
            "under your limit of {limit} {c}, and lower again than the {prev} {c} we told you of",
            c = m.currency
        ),
        ("below", Some(limit), None) => {
            format!("at or under your limit of {limit} {}", m.currency)
        }
        (_, _, Some(prev)) => format!("a new low, down from {prev} {}", m.currency),
        _ => "a new low".to_string(),
    }
}

/// The mail for `m` to `to`; `seen_at` is when the alert found the price, in real time (the
/// message's `observed_at` is the market's clock, which a simulated market runs fast).
pub fn price_alert_mail(
    to: &str,
    m: &PriceAlertMessage,
    seen_at: chrono::DateTime<chrono::Utc>,
    public_url: &str,
    unsubscribe_url: &str,
) -> Mail {
    let route = format!("{} → {}", m.origin, m.destination);
    let dates = match m.return_date {
        Some(r) => format!(
            "leaving {}, returning {}",
            m.departure_date.format("%a %-d %b %Y"),
            r.format("%a %-d %b %Y")
        ),
        None => format!("one way, {}", m.departure_date.format("%a %-d %b %Y")),
    };
    let trip = format!("{route}, {}, {dates}", cabin_name(&m.cabin));
    let price = format!("{} {}", m.price, m.currency);
    let search = search_url(public_url, m);
    let alerts = format!("{}/alerts", public_url.trim_end_matches('/'));
    let seen = seen_at.format("%-d %b %Y %H:%M UTC");
    let change = change(m);
    // ASCII, so every client shows it as written (the body has the arrow).
    let subject = format!("Price alert: {} to {} now {price}", m.origin, m.destination);
    let text = format!(
        "{trip}\n\n\
         Now {price} per adult — {change}.\n\
         Seen {seen}; prices change, so check before you book.\n\n\
         See the flights: {search}\n\n\
         Your alerts: {alerts}\n\
         Stop this alert: {unsubscribe_url}\n\n— Spontra\n"
    );
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{subject_h}</title></head>\
         <body style=\"font-family:system-ui,sans-serif;color:#111;max-width:36rem;margin:auto;padding:1rem\">\
         <h1 style=\"font-size:1.25rem\">{route_h}</h1>\
         <p>{trip_h}</p>\
         <p style=\"font-size:1.5rem;margin:0.5rem 0\"><strong>{price_h}</strong> per adult</p>\
         <p>{change_h}.</p>\
         <p style=\"color:#555\">Seen {seen}; prices change, so check before you book.</p>\
         <p><a href=\"{search_h}\" style=\"background:#0b57d0;color:#fff;padding:0.6rem 1rem;border-radius:0.4rem;text-decoration:none\">See the flights</a></p>\
         <hr><p style=\"color:#555;font-size:0.875rem\"><a href=\"{alerts_h}\">Your alerts</a> · \
         <a href=\"{unsub_h}\">Stop this alert</a></p></body></html>",
        subject_h = esc(&subject),
        route_h = esc(&route),
        trip_h = esc(&trip),
        price_h = esc(&price),
        change_h = esc(&change),
        search_h = esc(&search),
        alerts_h = esc(&alerts),
        unsub_h = esc(unsubscribe_url),
    );
    Mail {
        to: to.to_string(),
        subject,
        text,
        html: Some(html),
        link: Some(search),
        unsubscribe: Some(unsubscribe_url.to_string()),
        message_id: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> PriceAlertMessage {
        PriceAlertMessage {
            alert_id: spontra_store::AlertId::new(),
            origin: "LHR".into(),
            destination: "JFK".into(),
            cabin: "premium_economy".into(),
            departure_date: "2027-01-15".parse().unwrap(),
            return_date: Some("2027-01-22".parse().unwrap()),
            currency: "GBP".into(),
            price: "412.00".into(),
            reason: "below".into(),
            limit: Some("450.00".into()),
            previous: None,
            observed_at: "2026-12-01T10:00:00Z".parse().unwrap(),
        }
    }

    #[test]
    fn the_mail_says_the_price_the_change_the_trip_and_where_to_go() {
        let mail = price_alert_mail(
            "ada@example.com",
            &message(),
            "2026-12-08T09:30:00Z".parse().unwrap(),
            "https://spontra.example/",
            "https://spontra.example/api/v1/notifications/unsubscribe?alert=a&sig=s",
        );
        assert_eq!(mail.subject, "Price alert: LHR to JFK now 412.00 GBP");
        for part in [&mail.text, mail.html.as_ref().unwrap()] {
            assert!(part.contains("412.00 GBP"), "{part}");
            assert!(part.contains("under your limit of 450.00 GBP"), "{part}");
            assert!(part.contains("Fri 15 Jan 2027"), "{part}");
            assert!(part.contains("premium economy"), "{part}");
            // When the alert found it, not the market's clock (issue #25).
            assert!(part.contains("Seen 8 Dec 2026 09:30 UTC"), "{part}");
        }
        assert!(mail.text.contains(
            "https://spontra.example/search?trip=return&origin=LHR&destination=JFK&depart=2027-01-15&return=2027-01-22&cabin=premium_economy"
        ));
        // In HTML the query's ampersands are escaped.
        assert!(mail
            .html
            .as_ref()
            .unwrap()
            .contains("depart=2027-01-15&amp;return=2027-01-22"));
        assert_eq!(
            mail.unsubscribe.as_deref(),
            Some("https://spontra.example/api/v1/notifications/unsubscribe?alert=a&sig=s")
        );
    }

    #[test]
    fn a_new_low_says_what_it_fell_from() {
        let mut m = message();
        m.reason = "new_low".into();
        m.limit = None;
        m.previous = Some("480.00".into());
        m.return_date = None;
        let mail = price_alert_mail("a@b.c", &m, m.observed_at, "http://127.0.0.1:8080", "u");
        assert!(
            mail.text.contains("a new low, down from 480.00 GBP"),
            "{}",
            mail.text
        );
        assert!(
            mail.text.contains("one way, Fri 15 Jan 2027"),
            "{}",
            mail.text
        );
        assert!(mail.text.contains("trip=oneway"), "{}", mail.text);
    }

    #[test]
    fn html_escapes_what_it_shows() {
        assert_eq!(
            esc("<a href=\"x\">&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"
        );
    }
}
