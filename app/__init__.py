"""yibao (医保助手): answers students' medical-insurance questions from official guides."""
