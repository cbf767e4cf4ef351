import pytest
from ums.automation import templates
from ums.errors import BadRequest


def test_jexia_go_style_and_jinja_placeholders_both_work():
    context = {"token": "T0K", "email": "a@b.co"}
    assert templates.render("{{.token}} {{ .email }} {{ token }}", context, html=False) == "T0K a@b.co T0K"


def test_user_data_is_never_template_source():
    context = {"user": {"first_name": "{{ 7*7 }} {{ ''.__class__.__mro__ }}"}}
    assert (
        templates.render("Hi {{ user.first_name }}", context, html=False) == "Hi {{ 7*7 }} {{ ''.__class__.__mro__ }}"
    )


def test_html_autoescapes_and_text_does_not():
    context = {"name": "<script>x</script>"}
    assert templates.render("{{ name }}", context, html=True) == "&lt;script&gt;x&lt;/script&gt;"
    assert templates.render("{{ name }}", context, html=False) == "<script>x</script>"


def test_the_sandbox_refuses_unsafe_attribute_access():
    from jinja2.exceptions import SecurityError

    with pytest.raises(SecurityError):
        templates.render("{{ ''.__class__.__mro__[1].__subclasses__() }}", {}, html=False)


def test_compile_errors_name_field_and_line():
    with pytest.raises(BadRequest, match=r"'body' does not compile \(line 3\)"):
        templates.check("a\nb\n{% for %}", "body")


def test_header_values_lose_cr_lf_nul():
    assert templates.header_value("Hi\r\nBcc: evil@example.com\x00") == "Hi  Bcc: evil@example.com"


def test_text_is_derived_from_html_with_links_spelled_out():
    text = templates.html_to_text(
        "<p>Hello <b>Ann</b></p><p><a href='https://x.example/r?t=1'>Reset</a></p><style>p{}</style>"
    )
    assert text == "Hello Ann\n\nReset (https://x.example/r?t=1)\n"
