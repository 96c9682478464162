//! A small cookie-keeping browser for the console tests: it keeps what `Set-Cookie` says
//! (`Max-Age=0` removes), sends the cookies back, and reads forms out of the HTML the way a
//! browser would submit them (the page's own fields, the CSRF token included).

use std::collections::BTreeMap;

use crate::support::{PASSWORD, Response, TestApp};

pub struct Browser<'a> {
    pub app: &'a TestApp,
    pub cookies: BTreeMap<String, String>,
    /// Sent as `Accept-Language` when set.
    pub language: Option<String>,
    pub peer: String,
}

pub fn html(res: &Response) -> String {
    String::from_utf8_lossy(&res.raw).into_owned()
}

/// The value of the attribute `attr` of the first tag that contains `marker`.
pub fn attribute_after(html: &str, marker: &str, attr: &str) -> Option<String> {
    let at = html.find(marker)?;
    let tag_start = html[..at].rfind('<')?;
    let tag_end = at + html[at..].find('>')?;
    let tag = &html[tag_start..tag_end];
    let key = format!("{attr}=\"");
    let v = tag.find(&key)? + key.len();
    let end = tag[v..].find('"')?;
    Some(unescape(&tag[v..v + end]))
}

fn unescape(s: &str) -> String {
    s.replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The CSRF token of the page's forms.
pub fn csrf_of(html: &str) -> String {
    attribute_after(html, "name=\"csrf\"", "value").expect("the page has no CSRF field")
}

/// The fields a browser would submit from the form with id `form_id`: hidden and text inputs
/// with their values, and each select's selected (or first) option.
pub fn form_fields(html: &str, form_id: &str) -> Vec<(String, String)> {
    let start = html
        .find(&format!("id=\"{form_id}\""))
        .unwrap_or_else(|| panic!("no form #{form_id} in the page"));
    let end = start + html[start..].find("</form>").expect("unclosed form");
    let form = &html[start..end];
    let mut out = Vec::new();
    let mut rest = form;
    while let Some(i) = rest.find("<input") {
        let tag_end = i + rest[i..].find('>').unwrap();
        let tag = &rest[i..=tag_end];
        if let Some(name) = attribute_after(tag, "name=", "name") {
            let value = attribute_after(tag, "value=", "value").unwrap_or_default();
            out.push((name, value));
        }
        rest = &rest[tag_end..];
    }
    let mut rest = form;
    while let Some(i) = rest.find("<select") {
        let close = i + rest[i..].find("</select>").unwrap();
        let select = &rest[i..close];
        let open_end = select.find('>').unwrap();
        let name = attribute_after(&select[..=open_end], "name=", "name").unwrap();
        let options: Vec<&str> = select.split("<option").skip(1).collect();
        let chosen = options
            .iter()
            .find(|o| o.contains(" selected"))
            .or(options.first());
        let value = chosen
            .and_then(|o| attribute_after(&format!("<option{o}"), "value=", "value"))
            .unwrap_or_default();
        out.push((name, value));
        rest = &rest[close..];
    }
    let mut rest = form;
    while let Some(i) = rest.find("<textarea") {
        let tag_end = i + rest[i..].find('>').unwrap();
        let name = attribute_after(&rest[i..tag_end + 1], "name=", "name").unwrap();
        let close = tag_end + rest[tag_end..].find("</textarea>").unwrap();
        out.push((name, unescape(&rest[tag_end + 1..close])));
        rest = &rest[close..];
    }
    out
}

/// `fields` with `name` set to `value` (added when absent).
pub fn with(mut fields: Vec<(String, String)>, name: &str, value: &str) -> Vec<(String, String)> {
    match fields.iter_mut().find(|(k, _)| k == name) {
        Some((_, v)) => *v = value.to_owned(),
        None => fields.push((name.to_owned(), value.to_owned())),
    }
    fields
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Browser {
            app,
            cookies: BTreeMap::new(),
            language: None,
            peer: "192.0.2.10:5000".into(),
        }
    }

    fn keep_cookies(&mut self, res: &Response) {
        for v in res.headers.get_all("set-cookie") {
            let v = v.to_str().unwrap();
            let (pair, attrs) = v.split_once(';').unwrap_or((v, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub async fn get(&mut self, path: &str) -> Response {
        let mut req = self.app.get(path).peer(&self.peer);
        if !self.cookies.is_empty() {
            req = req.header("Cookie", &self.cookie_header());
        }
        if let Some(l) = &self.language {
            req = req.header("Accept-Language", l);
        }
        let res = req.send().await;
        self.keep_cookies(&res);
        res
    }

    pub async fn post(&mut self, path: &str, fields: &[(String, String)]) -> Response {
        let body = serde_urlencoded::to_string(fields).unwrap();
        let mut req = self
            .app
            .post(path)
            .peer(&self.peer)
            .raw(body, Some("application/x-www-form-urlencoded"));
        if !self.cookies.is_empty() {
            req = req.header("Cookie", &self.cookie_header());
        }
        if let Some(l) = &self.language {
            req = req.header("Accept-Language", l);
        }
        let res = req.send().await;
        self.keep_cookies(&res);
        res
    }

    /// Opens the sign-in form and submits it; returns the answer to the submission.
    pub async fn sign_in_with(
        &mut self,
        email: &str,
        password: &str,
        next: Option<&str>,
    ) -> Response {
        let path = match next {
            Some(n) => format!("/console/sign-in?next={}", urlencode(n)),
            None => "/console/sign-in".into(),
        };
        let form = self.get(&path).await;
        assert_eq!(form.status, 200, "{}", html(&form));
        let fields = with(form_fields(&html(&form), "sign-in-form"), "email", email);
        let fields = with(fields, "password", password);
        self.post("/console/sign-in", &fields).await
    }

    /// Signs in with the test password and expects to land on the queue.
    pub async fn sign_in(&mut self, email: &str) {
        let res = self.sign_in_with(email, PASSWORD, None).await;
        assert_eq!(res.status, 303, "{}", html(&res));
        assert_eq!(res.header("location").as_deref(), Some("/console/queue"));
        assert!(self.cookies.contains_key("guichet_session"));
    }

    /// Submits the form `form_id` of `page` (after `changes`) to `action`.
    pub async fn submit(
        &mut self,
        page: &Response,
        form_id: &str,
        changes: &[(&str, &str)],
    ) -> Response {
        let page = html(page);
        let action = attribute_after(&page, &format!("id=\"{form_id}\""), "action").unwrap();
        let mut fields = form_fields(&page, form_id);
        for (k, v) in changes {
            fields = with(fields, k, v);
        }
        self.post(&action, &fields).await
    }
}

pub fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("x", s)]).unwrap()[2..].to_owned()
}
