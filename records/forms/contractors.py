"""Forms for the contractor pages."""

from django import forms
from django.db.models import Q


class ContractorFilterForm(forms.Form):
    q = forms.CharField(label="Contractor name or trade", required=False, max_length=100)

    def filter(self, contractors):
        data = self.cleaned_data if self.is_valid() else {}
        for word in (data.get("q") or "").split():
            contractors = contractors.filter(Q(name__icontains=word) | Q(trade__icontains=word))
        return contractors
