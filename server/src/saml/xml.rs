//! The one boundary between ssoplane and libxml2: every FFI call and every
//! `unsafe` block of the workspace lives in this module (a workspace lint
//! forbids `unsafe` everywhere else). Above it, a parsed document is a
//! [`Doc`] that owns the libxml2 tree, and everything read from it
//! ([`El`], [`Attr`], [`Node`], names, text) is a plain value or a borrow
//! tied to the document's lifetime, so safe code cannot outlive or alias it.
//!
//! Canonicalization, signature verification and signing, decryption and
//! metadata reading are written in safe Rust on top of this module.
#![allow(unsafe_code)]

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::marker::PhantomData;
use std::ptr::NonNull;
use std::sync::Once;

use libxml::bindings as ffi;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum XmlError {
    #[error("the document is not well-formed XML")]
    Malformed,
    #[error("the document uses a namespace prefix it does not declare")]
    Namespace,
    #[error("the decrypted content is not exactly one well-formed element")]
    Fragment,
    #[error("the element to replace was not found")]
    NoTarget,
    #[error("canonicalization failed")]
    C14n,
}

const PARSE_OPTIONS: c_int = (ffi::xmlParserOption_XML_PARSE_NONET
    | ffi::xmlParserOption_XML_PARSE_NOERROR
    | ffi::xmlParserOption_XML_PARSE_NOWARNING) as c_int;

fn init() {
    static INIT: Once = Once::new();
    // SAFETY: xmlInitParser sets up libxml2's global tables; it must run
    // once before any thread parses, which the `Once` guarantees.
    INIT.call_once(|| unsafe { ffi::xmlInitParser() });
}

/// A parsed XML document (libxml2), freed on drop.
pub struct Doc {
    ptr: NonNull<ffi::xmlDoc>,
}

// SAFETY: a libxml2 document is a self-contained heap tree (its string
// dictionary is reference-counted under a lock); nothing in it is tied to the
// thread that parsed it. `Doc` owns its tree exclusively and is not `Sync`,
// so sending it moves sole access to the other thread.
unsafe impl Send for Doc {}

impl Doc {
    /// Parses strictly: no recovery, no network, no entity substitution (the
    /// markup guard refuses DTDs before this runs), UTF-8 whatever the
    /// declaration says because the text arrived as a Rust string. libxml2's
    /// default limits apply (nesting depth 256, no huge text nodes).
    pub fn parse(text: &str) -> Result<Doc, XmlError> {
        init();
        let len = c_int::try_from(text.len()).map_err(|_| XmlError::Malformed)?;
        // SAFETY: the buffer is valid for `len` bytes for the whole call and
        // libxml2 copies what it keeps; the encoding name is a C literal.
        let ptr = unsafe {
            ffi::xmlReadMemory(
                text.as_ptr().cast::<c_char>(),
                len,
                std::ptr::null(),
                c"UTF-8".as_ptr(),
                PARSE_OPTIONS,
            )
        };
        let doc = NonNull::new(ptr)
            .map(|ptr| Doc { ptr })
            .ok_or(XmlError::Malformed)?;
        if let Some(root) = doc.root() {
            namespace_well_formed(root)?;
        }
        Ok(doc)
    }

    pub fn root(&self) -> Option<El<'_>> {
        // SAFETY: `ptr` is a live document owned by `self`.
        El::new(unsafe { ffi::xmlDocGetRootElement(self.ptr.as_ptr()) })
    }

    /// Replaces the element `locate` picks with `fragment`, which must be
    /// exactly one element (whitespace around it is dropped). The fragment
    /// is parsed in the namespace context of the replaced element's parent,
    /// as XML Encryption's decryptors do, so prefixes the encrypted content
    /// relies on resolve as they did before encryption. Taking `&mut self`
    /// guarantees no element of this document is borrowed while the tree
    /// changes.
    pub fn replace_with_fragment(
        &mut self,
        locate: impl for<'a> FnOnce(El<'a>) -> Option<El<'a>>,
        fragment: &str,
    ) -> Result<(), XmlError> {
        let (target, parent) = {
            let root = self.root().ok_or(XmlError::NoTarget)?;
            let target = locate(root).ok_or(XmlError::NoTarget)?;
            let parent = target.parent().ok_or(XmlError::NoTarget)?;
            (target.ptr, parent.ptr)
        };
        let len = c_int::try_from(fragment.len()).map_err(|_| XmlError::Fragment)?;
        let mut list: ffi::xmlNodePtr = std::ptr::null_mut();
        // SAFETY: `parent` is a live element of this document and no borrow
        // of the document exists (`&mut self`); the buffer is valid for `len`
        // bytes; `list` receives a node list we own from here on.
        let rc = unsafe {
            ffi::xmlParseInNodeContext(
                parent.as_ptr(),
                fragment.as_ptr().cast::<c_char>(),
                len,
                PARSE_OPTIONS,
                &mut list,
            )
        };
        let mut owned = OwnedList(list);
        if rc != ffi::xmlParserErrors_XML_ERR_OK {
            return Err(XmlError::Fragment);
        }
        // Exactly one element, nothing but whitespace text beside it.
        let mut element = None;
        let mut cur = owned.0;
        while !cur.is_null() {
            // SAFETY: walking the node list we own.
            let node = unsafe { &*cur };
            match node.type_ {
                ffi::xmlElementType_XML_ELEMENT_NODE if element.is_none() => element = Some(cur),
                ffi::xmlElementType_XML_TEXT_NODE
                    if bytes(node.content).iter().all(u8::is_ascii_whitespace) => {}
                _ => return Err(XmlError::Fragment),
            }
            cur = node.next;
        }
        let element = element.ok_or(XmlError::Fragment)?;
        if let Some(el) = El::new(element) {
            namespace_well_formed(el)?;
        }
        // SAFETY: `element` is in the list we own. Unlinking it leaves the
        // rest of the list (whitespace) owned by `owned` and makes the
        // element a free-standing node, whose namespace pointers point into
        // this document's tree (the parent and its ancestors).
        unsafe {
            if owned.0 == element {
                owned.0 = (*element).next;
            }
            ffi::xmlUnlinkNode(element);
        }
        // SAFETY: `target` is a live, linked node of this document; after
        // xmlReplaceNode it is unlinked and ours to free, and `element` is
        // owned by the tree. Nothing references the target's subtree: the
        // fragment's namespaces resolve to the parent and its ancestors.
        unsafe {
            let old = ffi::xmlReplaceNode(target.as_ptr(), element);
            if !old.is_null() {
                ffi::xmlFreeNode(old);
            }
        }
        Ok(())
    }
}

/// libxml2 reports an undeclared prefix as a namespace error but still
/// builds the tree, keeping the prefixed name as the local name with no
/// namespace. A name with a colon is therefore an unresolved prefix: such a
/// document is refused, so no reader ever sees a name it cannot resolve.
fn namespace_well_formed(root: El<'_>) -> Result<(), XmlError> {
    for el in std::iter::once(root).chain(root.descendants()) {
        if el.local_name().contains(&b':')
            || el.attributes().any(|a| a.local_name().contains(&b':'))
        {
            return Err(XmlError::Namespace);
        }
    }
    Ok(())
}

/// A node list returned by libxml2 that we own until it is linked or freed.
struct OwnedList(ffi::xmlNodePtr);

impl Drop for OwnedList {
    fn drop(&mut self) {
        if !self.0.is_null() {
            // SAFETY: the list is unlinked and owned by us alone.
            unsafe { ffi::xmlFreeNodeList(self.0) }
        }
    }
}

impl Drop for Doc {
    fn drop(&mut self) {
        // SAFETY: we own the document; every `El` borrows `self`, so none is alive.
        unsafe { ffi::xmlFreeDoc(self.ptr.as_ptr()) }
    }
}

/// A NUL-terminated libxml2 string as bytes, empty for NULL.
fn bytes<'d>(p: *const u8) -> &'d [u8] {
    if p.is_null() {
        return b"";
    }
    // SAFETY: libxml2 strings are NUL-terminated and live as long as the
    // node or document that holds them, which the caller's lifetime names.
    unsafe { CStr::from_ptr(p.cast::<c_char>()) }.to_bytes()
}

/// A namespace: its prefix (empty for the default namespace) and URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ns<'d> {
    pub prefix: &'d [u8],
    pub uri: &'d [u8],
}

fn ns_of<'d>(ns: *const ffi::xmlNs) -> Option<Ns<'d>> {
    if ns.is_null() {
        return None;
    }
    // SAFETY: a non-null namespace of a live node, living with the document.
    let ns = unsafe { &*ns };
    Some(Ns {
        prefix: bytes(ns.prefix),
        uri: bytes(ns.href),
    })
}

/// An element of a `Doc`, borrowed from it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct El<'d> {
    ptr: NonNull<ffi::_xmlNode>,
    _doc: PhantomData<&'d Doc>,
}

impl std::fmt::Debug for El<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "El({})", String::from_utf8_lossy(self.local_name()))
    }
}

/// A child node of an element, as canonicalization and readers see it.
#[derive(Debug, Clone, Copy)]
pub enum Node<'d> {
    Element(El<'d>),
    Text(&'d [u8]),
    CData(&'d [u8]),
    Comment,
    /// Processing instructions, entity references and the like: nothing a
    /// SAML message may contain (the markup guard refuses them).
    Other,
}

fn node_of<'d>(ptr: ffi::xmlNodePtr) -> Option<Node<'d>> {
    let nn = NonNull::new(ptr)?;
    // SAFETY: a non-null node of a live document.
    let n = unsafe { nn.as_ref() };
    Some(match n.type_ {
        ffi::xmlElementType_XML_ELEMENT_NODE => Node::Element(El {
            ptr: nn,
            _doc: PhantomData,
        }),
        ffi::xmlElementType_XML_TEXT_NODE => Node::Text(bytes(n.content)),
        ffi::xmlElementType_XML_CDATA_SECTION_NODE => Node::CData(bytes(n.content)),
        ffi::xmlElementType_XML_COMMENT_NODE => Node::Comment,
        _ => Node::Other,
    })
}

/// The siblings starting at `first`.
fn siblings<'d>(first: ffi::xmlNodePtr) -> impl Iterator<Item = Node<'d>> {
    let mut next = first;
    std::iter::from_fn(move || {
        let node = node_of(next)?;
        // SAFETY: `next` is non-null here (node_of returned Some).
        next = unsafe { (*next).next };
        Some(node)
    })
}

/// Text content of a node list (text and CDATA only).
fn text_of(first: ffi::xmlNodePtr) -> String {
    let mut out = String::new();
    for n in siblings(first) {
        if let Node::Text(t) | Node::CData(t) = n {
            out.push_str(&String::from_utf8_lossy(t));
        }
    }
    out
}

impl<'d> El<'d> {
    fn new(ptr: ffi::xmlNodePtr) -> Option<El<'d>> {
        NonNull::new(ptr).map(|ptr| El {
            ptr,
            _doc: PhantomData,
        })
    }

    fn node(&self) -> &'d ffi::_xmlNode {
        // SAFETY: `ptr` is non-null and lives as long as the document ('d).
        unsafe { self.ptr.as_ref() }
    }

    pub fn local_name(&self) -> &'d [u8] {
        bytes(self.node().name)
    }

    /// The element's namespace, None when it has none.
    pub fn namespace(&self) -> Option<Ns<'d>> {
        ns_of(self.node().ns)
    }

    /// Namespace URI and local name are both `ns` and `local`.
    pub fn is(&self, ns: &str, local: &str) -> bool {
        self.local_name() == local.as_bytes()
            && self.namespace().is_some_and(|n| n.uri == ns.as_bytes())
    }

    /// Child nodes of every kind, in document order.
    pub fn nodes(self) -> impl Iterator<Item = Node<'d>> {
        siblings(self.node().children)
    }

    /// Element children, in document order.
    pub fn children(self) -> impl Iterator<Item = El<'d>> {
        self.nodes().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            _ => None,
        })
    }

    pub fn child(self, ns: &str, local: &str) -> Option<El<'d>> {
        self.children().find(|c| c.is(ns, local))
    }

    /// Every element below this one, in document order.
    pub fn descendants(self) -> impl Iterator<Item = El<'d>> {
        let mut stack: Vec<El<'d>> = self.children().collect();
        stack.reverse();
        std::iter::from_fn(move || {
            let next = stack.pop()?;
            let at = stack.len();
            stack.extend(next.children());
            stack[at..].reverse();
            Some(next)
        })
    }

    /// The parent element, None for the root (or a detached element).
    pub fn parent(self) -> Option<El<'d>> {
        let p = El::new(self.node().parent)?;
        (p.node().type_ == ffi::xmlElementType_XML_ELEMENT_NODE).then_some(p)
    }

    /// The element's attributes, in document order.
    pub fn attributes(self) -> impl Iterator<Item = Attr<'d>> {
        let mut next = self.node().properties;
        std::iter::from_fn(move || {
            let ptr = NonNull::new(next)?;
            // SAFETY: a live attribute of the element.
            next = unsafe { ptr.as_ref() }.next;
            Some(Attr {
                ptr,
                _doc: PhantomData,
            })
        })
    }

    /// The value of an attribute without a namespace (SAML's `ID`, `URI`, …).
    pub fn attr(&self, name: &str) -> Option<String> {
        self.attributes()
            .find(|a| a.namespace().is_none() && a.local_name() == name.as_bytes())
            .map(|a| a.value())
    }

    /// The value of a namespaced attribute (e.g. `xsi:type`).
    pub fn attr_ns(&self, ns: &str, name: &str) -> Option<String> {
        self.attributes()
            .find(|a| {
                a.local_name() == name.as_bytes()
                    && a.namespace().is_some_and(|n| n.uri == ns.as_bytes())
            })
            .map(|a| a.value())
    }

    /// The namespace declarations made on this element.
    pub fn namespace_declarations(self) -> impl Iterator<Item = Ns<'d>> {
        let mut next: *const ffi::xmlNs = self.node().nsDef;
        std::iter::from_fn(move || {
            let ns = ns_of(next)?;
            // SAFETY: `next` is non-null here (ns_of returned Some).
            next = unsafe { (*next).next };
            Some(ns)
        })
    }

    /// The namespace bound to `prefix` in scope here (None: the default).
    pub fn lookup_namespace(self, prefix: Option<&CStr>) -> Option<Ns<'d>> {
        let name = prefix.map_or(std::ptr::null(), |p| p.as_ptr().cast::<u8>());
        // SAFETY: lookup on a live node of a live document; `prefix` is
        // NUL-terminated and outlives the call; the result (if any) is a
        // namespace of the document.
        let found = unsafe { ffi::xmlSearchNs(self.node().doc, self.ptr.as_ptr(), name) };
        ns_of(found)
    }

    /// The element's own text (its text children, not descendants').
    pub fn text(&self) -> String {
        text_of(self.node().children)
    }
}

/// An attribute of an element, borrowed from its document.
#[derive(Clone, Copy)]
pub struct Attr<'d> {
    ptr: NonNull<ffi::_xmlAttr>,
    _doc: PhantomData<&'d Doc>,
}

impl<'d> Attr<'d> {
    fn attr(&self) -> &'d ffi::_xmlAttr {
        // SAFETY: a live attribute of a live document ('d).
        unsafe { self.ptr.as_ref() }
    }

    pub fn local_name(&self) -> &'d [u8] {
        bytes(self.attr().name)
    }

    pub fn namespace(&self) -> Option<Ns<'d>> {
        ns_of(self.attr().ns)
    }

    /// The nodes making up the value: text nodes (entity references cannot
    /// occur without a DTD, which the guard refuses).
    pub fn value_nodes(&self) -> impl Iterator<Item = Node<'d>> {
        siblings(self.attr().children)
    }

    pub fn value(&self) -> String {
        text_of(self.attr().children)
    }
}

/// libxml2's canonicalization modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum C14nMode {
    Exclusive10,
    Inclusive10,
    Inclusive11,
}

/// libxml2's canonicalization of `apex`'s subtree minus `exclude`'s subtree
/// (the node set of a same-document reference with the enveloped transform).
/// The inclusive forms use it; exclusive c14n is ours (`c14n`) and is tested
/// against this.
pub fn canonicalize_libxml2(
    doc: &Doc,
    apex: El<'_>,
    exclude: Option<El<'_>>,
    mode: C14nMode,
    comments: bool,
    prefixes: &[CString],
) -> Result<Vec<u8>, XmlError> {
    struct Scope {
        apex: ffi::xmlNodePtr,
        exclude: ffi::xmlNodePtr,
    }
    // Decides per node by ancestry, as XPath would select the node set.
    unsafe extern "C" fn visible(
        user: *mut c_void,
        node: ffi::xmlNodePtr,
        parent: ffi::xmlNodePtr,
    ) -> c_int {
        // SAFETY: `user` is the `Scope` below, alive for the whole call;
        // namespace nodes share the `type` offset with other nodes (a
        // libxml2 layout guarantee) and are judged by their element; every
        // node walked is a live node of the document being canonicalized.
        unsafe {
            let scope = &*(user as *const Scope);
            let mut n = if node.is_null() {
                return 0;
            } else if (*node).type_ == ffi::xmlElementType_XML_NAMESPACE_DECL {
                parent
            } else {
                node
            };
            while !n.is_null() {
                if n == scope.exclude {
                    return 0;
                }
                if n == scope.apex {
                    return 1;
                }
                n = (*n).parent;
            }
            0
        }
    }
    unsafe extern "C" fn write(ctx: *mut c_void, buf: *const c_char, len: c_int) -> c_int {
        // SAFETY: `ctx` is the output Vec below, exclusively ours during the
        // call; libxml2 hands `len` readable bytes at `buf`.
        unsafe {
            let out = &mut *(ctx as *mut Vec<u8>);
            out.extend_from_slice(std::slice::from_raw_parts(
                buf.cast::<u8>(),
                usize::try_from(len).unwrap_or(0),
            ));
        }
        len
    }
    let scope = Scope {
        apex: apex.ptr.as_ptr(),
        exclude: exclude.map_or(std::ptr::null_mut(), |e| e.ptr.as_ptr()),
    };
    let mut list: Vec<*mut u8> = prefixes
        .iter()
        .map(|p| p.as_ptr().cast_mut().cast::<u8>())
        .collect();
    list.push(std::ptr::null_mut());
    let mode = match mode {
        C14nMode::Exclusive10 => ffi::xmlC14NMode_XML_C14N_EXCLUSIVE_1_0,
        C14nMode::Inclusive10 => ffi::xmlC14NMode_XML_C14N_1_0,
        C14nMode::Inclusive11 => ffi::xmlC14NMode_XML_C14N_1_1,
    };
    let mut out: Vec<u8> = Vec::with_capacity(4096);
    // SAFETY: the output buffer writes into `out` and is closed before `out`
    // is read; `scope` and `list` outlive the call and libxml2 only reads
    // the prefix strings; `doc` is borrowed for the whole call.
    let rc = unsafe {
        let buf = ffi::xmlOutputBufferCreateIO(
            Some(write),
            None,
            (&mut out as *mut Vec<u8>).cast::<c_void>(),
            std::ptr::null_mut(),
        );
        if buf.is_null() {
            return Err(XmlError::C14n);
        }
        let rc = ffi::xmlC14NExecute(
            doc.ptr.as_ptr(),
            Some(visible),
            (&scope as *const Scope).cast_mut().cast::<c_void>(),
            mode as c_int,
            if prefixes.is_empty() {
                std::ptr::null_mut()
            } else {
                list.as_mut_ptr()
            },
            c_int::from(comments),
            buf,
        );
        ffi::xmlOutputBufferClose(buf);
        rc
    };
    if rc < 0 {
        return Err(XmlError::C14n);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NS: &str = "urn:a";

    /// The compiler denies `unsafe` in the whole workspace; this keeps the
    /// one exception in this file.
    #[test]
    fn unsafe_is_allowed_nowhere_else() {
        fn walk(dir: &std::path::Path, found: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, found);
                } else if path.extension().is_some_and(|e| e == "rs")
                    && !path.ends_with("saml/xml.rs")
                    && std::fs::read_to_string(&path)
                        .unwrap()
                        .contains(concat!("allow(", "unsafe_code)"))
                {
                    found.push(path.display().to_string());
                }
            }
        }
        let mut found = Vec::new();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        for krate in ["server", "schema", "proto", "provider", "tests"] {
            walk(&root.join(krate), &mut found);
        }
        assert!(found.is_empty(), "unsafe allowed in {found:?}");
    }

    #[test]
    fn reads_names_attributes_namespaces_and_text() {
        let doc = Doc::parse(
            r#"<a:r xmlns:a="urn:a" xmlns="urn:d" x="1" a:y="2"><a:c>t<![CDATA[<u>]]></a:c><d/></a:r>"#,
        )
        .unwrap();
        let root = doc.root().unwrap();
        assert!(root.is(NS, "r"));
        assert_eq!(root.attr("x").as_deref(), Some("1"));
        assert_eq!(root.attr("y"), None);
        assert_eq!(root.attr_ns(NS, "y").as_deref(), Some("2"));
        let decls: Vec<_> = root.namespace_declarations().collect();
        assert_eq!(decls.len(), 2);
        let c = root.child(NS, "c").unwrap();
        assert_eq!(c.text(), "t<u>");
        assert_eq!(c.parent(), Some(root));
        assert_eq!(root.parent(), None);
        let d = root.children().nth(1).unwrap();
        assert!(d.is("urn:d", "d"));
        assert_eq!(
            d.lookup_namespace(Some(c"a")).map(|n| n.uri),
            Some(&b"urn:a"[..])
        );
        assert_eq!(root.descendants().count(), 2);
        assert!(Doc::parse("<a>").is_err());
        assert_eq!(Doc::parse("<u:a/>").err(), Some(XmlError::Namespace));
        assert_eq!(
            Doc::parse("<a u:b=\"1\"/>").err(),
            Some(XmlError::Namespace)
        );
    }

    #[test]
    fn replaces_an_element_with_a_fragment_in_its_parents_context() {
        let mut doc = Doc::parse(
            r#"<p:r xmlns:p="urn:a"><p:box xmlns:q="urn:q"><p:secret>x</p:secret><p:k/></p:box></p:r>"#,
        )
        .unwrap();
        fn secret(root: El<'_>) -> Option<El<'_>> {
            root.child(NS, "box")?.child(NS, "secret")
        }
        fn k(root: El<'_>) -> Option<El<'_>> {
            root.child(NS, "box")?.child(NS, "k")
        }
        // The fragment uses prefixes declared on the parent and above.
        doc.replace_with_fragment(secret, "\n <p:plain q:z=\"1\">hello</p:plain> ")
            .unwrap();
        let root = doc.root().unwrap();
        let b = root.child(NS, "box").unwrap();
        let names: Vec<_> = b.children().map(|c| c.local_name().to_vec()).collect();
        assert_eq!(names, [b"plain".to_vec(), b"k".to_vec()]);
        let plain = b.child(NS, "plain").unwrap();
        assert_eq!(plain.text(), "hello");
        assert_eq!(plain.attr_ns("urn:q", "z").as_deref(), Some("1"));

        for bad in [
            "",
            "text",
            "<p:a/><p:b/>",
            "<p:a>",
            "<u:a/>",
            "<!-- c --><p:a/>",
        ] {
            assert!(doc.replace_with_fragment(k, bad).is_err(), "{bad:?}");
        }
        // The document is intact after refused fragments.
        assert!(doc
            .root()
            .unwrap()
            .child(NS, "box")
            .unwrap()
            .child(NS, "k")
            .is_some());
    }
}
