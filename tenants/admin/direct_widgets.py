"""Widgets that write their HTML directly instead of through the form template engine.

For the many identical rows of a bounded inline (the tenant page's member rows): each template-rendered widget
costs a template lookup, a context and a render, several per row, and they were most of the page's time. These
produce the same elements Django's templates would (names, ids, values, selected, disabled) and nothing else;
use them only for fields whose look and behaviour need no template (hidden inputs, a checkbox, a flat select).
"""

from django.forms import widgets
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join


class DirectHiddenInput(widgets.HiddenInput):
    def render(self, name, value, attrs=None, renderer=None):
        value = self.format_value(value)
        attrs = {**self.build_attrs(self.attrs, attrs), "type": "hidden", "name": name}
        if value is not None:
            attrs["value"] = value
        return format_html("<input{}>", flatatt(attrs))


class DirectCheckboxInput(widgets.CheckboxInput):
    def render(self, name, value, attrs=None, renderer=None):
        attrs = {**self.build_attrs(self.attrs, attrs), "type": "checkbox", "name": name}
        if self.check_test(value):
            attrs["checked"] = True
        return format_html("<input{}>", flatatt(attrs))


class DirectSelect(widgets.Select):
    """A single-choice select over flat (value, label) choices, no option groups."""

    def render(self, name, value, attrs=None, renderer=None):
        attrs = {**self.build_attrs(self.attrs, attrs), "name": name}
        chosen = set(self.format_value(value))
        options = format_html_join(
            "",
            "<option value=\"{}\"{}>{}</option>",
            ((choice, " selected" if str(choice) in chosen else "", label) for choice, label in self.choices),
        )
        return format_html("<select{}>{}</select>", flatatt(attrs), options)


class ShownText(widgets.Widget):
    """A disabled field shown as its text: the value never comes back from the browser (a disabled field keeps
    its initial value), so there is nothing to submit."""

    def __init__(self, text, attrs=None):
        super().__init__(attrs)
        self.text = text

    def render(self, name, value, attrs=None, renderer=None):
        attrs = {k: v for k, v in self.build_attrs(self.attrs, attrs).items() if k in ("id", "aria-describedby")}
        return format_html("<span{}>{}</span>", flatatt(attrs), self.text)
