"""Importing customers from CSV and XLSX files (SPEC 2: 导入), in three steps kept apart:

- ``reading``: what the file is (checked by content), its encoding, and its rows with their line
  numbers as the user sees them in Excel or a text editor (the header is line 1);
- ``mapping``: which column holds which customer field, from Chinese or English headers;
- ``rows``: turning the cells of one row into customer values, or into translated reasons why not;
- ``matching``: duplicates within the file and matches with existing customers;
- ``writing``: new and updated customers of one batch, in bulk;
- ``selectors``: the imports a user may see (their own).

``customers.services.imports`` puts them together: the check behind the preview page, and the
batches of the Celery task that writes the customers.
"""
