"""Words and numbers as the user reads them: every label in Vietnamese and English, Vietnamese
number and date formats, labels shared by topics, text from outside made safe to show."""
