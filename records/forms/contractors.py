"""Forms for the contractor pages."""

from django import forms

from records.forms.common import FilterFormMixin, containing_every_word


class ContractorFilterForm(FilterFormMixin, forms.Form):
    q = forms.CharField(label="Contractor name or trade", required=False, max_length=100)

    def filter(self, contractors):
        return containing_every_word(contractors, self.valid_data().get("q"), ("name", "trade"))
