#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "core/env.h"
#include "retrieval/parse/parse.h"
#include "retrieval/testing/test_data.h"

namespace sagebox::retrieval {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

using testing::Data;
using testing::Read;

Document Html(const std::string& html) {
  auto d = ParseHtml(html, "page.html");
  EXPECT_TRUE(d.ok()) << d.status().ToString();
  return d.ok() ? *d : Document{};
}

// A real Sphinx page (Python 3.11's docs): the main content only, its table
// one line per row, the sidebar, the related-links bars and the "¶"
// permalinks gone.
TEST(HtmlTest, PythonDocsPwdKeepsMainContent) {
  const Document d = Html(Read("html/pwd.html"));
  EXPECT_EQ(d.title, "pwd — The password database — Python 3.11.2 documentation");
  EXPECT_EQ(d.metadata.at("format"), "html");
  EXPECT_EQ(d.metadata.at("content"), "main");
  EXPECT_THAT(d.text, StartsWith("pwd — The password database\n\nThis module provides access to "
                                 "the Unix user account and password database."));
  // The passwd table: header and rows, cells joined by " | ", one paragraph.
  EXPECT_THAT(d.text, HasSubstr("\n\nIndex | Attribute | Meaning\n0 | pw_name | Login name\n"
                                "1 | pw_passwd | Optional encrypted password\n"));
  EXPECT_THAT(d.text, HasSubstr("6 | pw_shell | User command interpreter\n\nThe uid and gid"));
  // Entities decoded: "&lt;pwd.h&gt;" in the source.
  EXPECT_THAT(d.text, HasSubstr("see <pwd.h>):"));
  // The last paragraph of the main content ends the text.
  EXPECT_THAT(d.text, ::testing::EndsWith("An interface to the shadow password database, similar "
                                          "to this."));
  for (const char* chrome : {"¶", "Previous topic", "Next topic", "Show Source", "Report a Bug",
                             "Table of Contents", "Navigation", "Quick search", "»"}) {
    EXPECT_THAT(d.text, Not(HasSubstr(chrome))) << chrome;
  }
  EXPECT_THAT(d.text, Not(HasSubstr("\n\n\n")));
  EXPECT_THAT(d.text, Not(HasSubstr("  ")));
}

// Code blocks keep their lines and indentation; everything else collapses.
TEST(HtmlTest, PythonDocsTextwrapKeepsPreformattedCode) {
  const Document d = Html(Read("html/textwrap.html"));
  EXPECT_EQ(d.title, "textwrap — Text wrapping and filling — Python 3.11.2 documentation");
  EXPECT_THAT(d.text, StartsWith("textwrap — Text wrapping and filling\n\nSource code: "
                                 "Lib/textwrap.py\n\n"));
  EXPECT_THAT(d.text, HasSubstr("\n\ndef test():\n    # end first line with \\ to avoid the empty "
                                "line!\n    s = '''\\\n    hello\n      world\n    '''\n"));
  EXPECT_THAT(d.text, HasSubstr(">>> textwrap.shorten(\"Hello  world!\", width=12)\n"
                                "'Hello world!'\n"));
  // A function signature (a <dt>) is its own paragraph.
  EXPECT_THAT(d.text, HasSubstr("\n\ntextwrap.dedent(text)\n\nRemove any common leading "
                                "whitespace from every line in text.\n\n"));
  EXPECT_THAT(d.text, ::testing::EndsWith("returns a single string containing the wrapped "
                                          "paragraph."));
}

TEST(HtmlTest, MainContentOrderFollowsReadTheDocsLoader) {
  // <main id="main-content"> wins over <div role="main"> wherever they are.
  const Document a =
      Html("<body><div role=main>div main</div><main id=main-content>pydata main</main></body>");
  EXPECT_EQ(a.text, "pydata main");
  const Document b =
      Html("<body><nav>n</nav><article role=main>article</article><div role=main>rtd</div></body>");
  EXPECT_EQ(b.text, "rtd");
  const Document c = Html("<body><p>intro</p><article role=main>article</article></body>");
  EXPECT_EQ(c.text, "article");
  const Document d = Html("<body><p>x</p><main><p>html5 main</p></main></body>");
  EXPECT_EQ(d.text, "html5 main");
  EXPECT_EQ(d.metadata.at("content"), "main");
  // Inside the main element, navigation goes (PyData's breadcrumbs, prev/next
  // bars); headers and asides are content there (an article's <h1>, docutils'
  // sidebars and footnotes).
  const Document e = Html(
      "<main id=main-content><nav>Home &gt; API</nav><header><h1>Article</h1></header>"
      "<p>Body<sup>1</sup></p><aside class=footnote>1. A note.</aside>"
      "<div role=navigation><a>Previous</a> <a>Next</a></div></main>");
  EXPECT_EQ(e.text, "Article\n\nBody1\n\n1. A note.");
}

TEST(HtmlTest, FallbackBodyDropsChrome) {
  const Document d = Html(
      "<!DOCTYPE html><html><head><title> My  Page </title><style>p{}</style></head><body>"
      "<header>Site header</header><nav><a href=/>Home</a></nav>"
      "<h1>Heading</h1><p>First &amp; <b>bold</b>\n   para.</p>"
      "<script>var x = '<p>no</p>';</script><aside>Sidebar</aside>"
      "<div>Second<br>line</div><ul><li>one</li><li>two</li></ul>"
      "<form><input value=q><button>Go</button></form><img alt=pic src=a.png>"
      "<!-- a comment --><footer>Copyright</footer></body></html>");
  EXPECT_EQ(d.metadata.at("content"), "body");
  EXPECT_EQ(d.title, "My Page");
  EXPECT_EQ(d.text, "Heading\n\nFirst & bold para.\n\nSecond\nline\n\none\ntwo");
}

TEST(HtmlTest, TitleFallsBackToFirstH1) {
  const Document d = Html(
      "<body><h1>Outside</h1><div role=main><h1>Inside<a class=headerlink>¶</a></h1>"
      "<p>t</p></div></body>");
  EXPECT_EQ(d.title, "Inside");
  const Document e = Html("<body><h1>Only <em>heading</em></h1></body>");
  EXPECT_EQ(e.title, "Only heading");
  const Document f = Html("<p>no heading</p>");
  EXPECT_EQ(f.title, "");
}

TEST(HtmlTest, TablesStayOneParagraph) {
  const Document d = Html(
      "<body><p>before</p><table><tr><th>a</th><th><p>b</p><p>c</p></th></tr>"
      "<tr><td></td><td>d<br>e</td></tr></table><p>after</p></body>");
  EXPECT_EQ(d.text, "before\n\na | b c\n | d e\n\nafter");
}

TEST(HtmlTest, EntitiesAndEncodings) {
  // Named, decimal and hex references; a non-breaking space stays U+00A0.
  EXPECT_EQ(Html("<p>&lt;a&gt; &eacute;&#233;&#xE9; x&nbsp;y</p>").text,
            "<a> \xC3\xA9\xC3\xA9\xC3\xA9 x\xC2\xA0y");
  // A Latin-1 page that says so is converted to UTF-8.
  EXPECT_EQ(Html("<html><head><meta charset=iso-8859-1></head><body>caf\xE9</body></html>").text,
            "caf\xC3\xA9");
  // UTF-8 without a declaration stays UTF-8, with or without a BOM, and so
  // does UTF-8 under a wrong Latin-1 declaration.
  EXPECT_EQ(Html("<p>na\xC3\xAFve \xE2\x80\x94 ok</p>").text, "na\xC3\xAFve \xE2\x80\x94 ok");
  EXPECT_EQ(Html("\xEF\xBB\xBF<p>\xC3\xA9</p>").text, "\xC3\xA9");
  EXPECT_EQ(Html("<meta charset=iso-8859-1><p>\xC3\xA9</p>").text, "\xC3\xA9");
  // A page declared UTF-8 with a stray byte after '&': libxml2 2.9 passes the
  // byte on as is; the text gets U+FFFD instead (found by html_parse_fuzz).
  EXPECT_EQ(Html("<meta charset=\"utf-8\"><p>a &\x94 b</p>").text, "a &\xEF\xBF\xBD b");
  // Latin-1 without a declaration: libxml2's fallback.
  EXPECT_EQ(Html("<p>caf\xE9</p>").text, "caf\xC3\xA9");
}

TEST(HtmlTest, BrokenMarkupIsRecovered) {
  const Document d = Html("<div role=main><p>unclosed <b>bold <i>both</div><p>tail");
  EXPECT_EQ(d.text, "unclosed bold both");
  EXPECT_EQ(Html("plain words, no tags").text, "plain words, no tags");
  const Document empty = Html("  \n ");
  EXPECT_EQ(empty.text, "");
  EXPECT_EQ(empty.id, "page.html");
}

TEST(HtmlTest, DeepNesting) {
  std::string html = "<body>";
  for (int i = 0; i < 100; ++i) html += "<div><span>";
  EXPECT_THAT(Html(html + "deep").text, HasSubstr("deep"));
  // Past libxml2's depth limit (256) the parser stops where it is; the page
  // still parses, and nothing recurses per level.
  for (int i = 0; i < 100000; ++i) html += "<div><span>";
  auto d = ParseHtml(html + "too deep", "deep.html");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_THAT(d->text, Not(HasSubstr("too deep")));
}

}  // namespace
}  // namespace sagebox::retrieval
