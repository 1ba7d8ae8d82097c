//! Writing the XML messages we send (AuthnRequest, LogoutRequest,
//! LogoutResponse, SP metadata): elements in the order the caller gives,
//! attributes as given, every value escaped.
//!
//! Ours rather than an XML crate's writer because what we write is what we
//! sign: our own exclusive canonicalization digests the document right after
//! it is written, and a second XML library would be a second interpretation
//! of the same message. Writing needs nothing beyond escaping.

/// An XML document being written.
#[derive(Default)]
pub struct Xml {
    out: String,
}

fn escape(out: &mut String, text: &str, attribute: bool) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            // Whitespace in attribute values is normalised by parsers unless
            // written as character references.
            '\t' if attribute => out.push_str("&#9;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
}

impl Xml {
    pub fn new() -> Xml {
        Xml::default()
    }

    /// An element with `attrs` (those whose value is `None` are left out);
    /// `body` writes its content, and an element with none is written empty.
    pub fn element(
        &mut self,
        name: &str,
        attrs: &[(&str, Option<&str>)],
        body: impl FnOnce(&mut Xml),
    ) -> &mut Xml {
        self.out.push('<');
        self.out.push_str(name);
        for (k, v) in attrs {
            if let Some(v) = v {
                self.out.push(' ');
                self.out.push_str(k);
                self.out.push_str("=\"");
                escape(&mut self.out, v, true);
                self.out.push('"');
            }
        }
        let mark = self.out.len();
        self.out.push('>');
        body(self);
        if self.out.len() == mark + 1 {
            self.out.truncate(mark);
            self.out.push_str("/>");
        } else {
            self.out.push_str("</");
            self.out.push_str(name);
            self.out.push('>');
        }
        self
    }

    /// An element holding only text.
    pub fn text_element(
        &mut self,
        name: &str,
        attrs: &[(&str, Option<&str>)],
        text: &str,
    ) -> &mut Xml {
        self.element(name, attrs, |x| escape(&mut x.out, text, false))
    }

    /// Markup written elsewhere (a signature), inserted as is.
    pub fn raw(&mut self, markup: &str) -> &mut Xml {
        self.out.push_str(markup);
        self
    }

    pub fn finish(self) -> String {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::Xml;
    use crate::saml::xml::Doc;

    #[test]
    fn escapes_and_round_trips_through_the_parser() {
        let mut x = Xml::new();
        x.element(
            "a:r",
            &[
                ("xmlns:a", Some("urn:a")),
                ("v", Some("q\"<&>\t\n\r")),
                ("skip", None),
            ],
            |x| {
                x.text_element("a:t", &[], "x<&>\"\r");
                x.element("a:e", &[], |_| {});
            },
        );
        let xml = x.finish();
        assert_eq!(
            xml,
            "<a:r xmlns:a=\"urn:a\" v=\"q&quot;&lt;&amp;&gt;&#9;&#10;&#13;\"><a:t>x&lt;&amp;&gt;\"&#13;</a:t><a:e/></a:r>"
        );
        let doc = Doc::parse(&xml).unwrap();
        let root = doc.root().unwrap();
        assert_eq!(root.attr("v").as_deref(), Some("q\"<&>\t\n\r"));
        assert_eq!(root.child("urn:a", "t").unwrap().text(), "x<&>\"\r");
    }
}
