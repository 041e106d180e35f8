enum _StorePlaceholder {}
